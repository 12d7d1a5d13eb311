// swift-tools-version: 5.9
// Written by `pinset export capacitor-plugin` for site "clinic". Do not edit by hand:
// run the export again after every key rotation and ship the result.
//
// The iOS side of the Capacitor plugin for Swift Package Manager (Capacitor 8's default):
// PinsetTrust.swift (the ios export's code), PinsetFetch.swift and the plugin class.

import PackageDescription

let package = Package(
    name: "PinsetPlugin",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "PinsetPlugin", targets: ["PinsetPlugin"])
    ],
    dependencies: [
        .package(url: "https://github.com/ionic-team/capacitor-swift-pm.git", from: "8.0.0")
    ],
    targets: [
        .target(
            name: "PinsetPlugin",
            dependencies: [
                .product(name: "Capacitor", package: "capacitor-swift-pm"),
                .product(name: "Cordova", package: "capacitor-swift-pm")
            ],
            path: "ios/Sources/PinsetPlugin"
        )
    ]
)
