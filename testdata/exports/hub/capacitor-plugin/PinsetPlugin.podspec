# Written by `pinset export capacitor-plugin` for site "hub". Do not edit by hand:
# run the export again after every key rotation and ship the result.
#
# The iOS side of the Capacitor plugin for CocoaPods projects.

require 'json'

package = JSON.parse(File.read(File.join(__dir__, 'package.json')))

Pod::Spec.new do |s|
  s.name = 'PinsetPlugin'
  s.version = package['version']
  s.summary = package['description']
  s.license = package['license']
  s.author = 'pinset'
  s.source = { :path => '.' }
  s.source_files = 'ios/Sources/PinsetPlugin/*.swift'
  s.ios.deployment_target = '15.0'
  s.dependency 'Capacitor'
  s.swift_version = '5.9'
end
