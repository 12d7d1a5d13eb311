//! The plugin targets (`cordova-plugin`, `capacitor-plugin`): a small native plugin of the
//! site's own, `fetch(url, options)` from JavaScript to native code that pins, as the guides
//! teams follow do by hand ("pinning in native code"). The generic plugins (`cordova`,
//! `capacitor`) cannot reach IP hosts on iOS, since their pinning runs after the system's
//! own trust evaluation; this one evaluates trust itself.
//!
//! The native code is the code of other exports, not a copy: iOS gets `PinsetTrust.swift` as
//! the `ios` export writes it, Android the `okhttp` export's `PinsetPinning.java`. Around them
//! each plugin adds `PinsetFetch.swift` (a URLSession that uses `PinsetTrust` and follows no
//! redirect to http://), `PinsetHttp.java` (requests on `PinsetPinning`'s client, JDK and
//! OkHttp only) and the small classes each framework calls.

use super::template::{Fill, Safe, Template, template};
use super::{Export, ExportFile, Options, SiteTrust, Target, ios, okhttp, text};

/// The one version the exported plugins carry: the files change with the site, not the API.
const PLUGIN_VERSION: &str = "1.0.0";

/// OkHttp the Android side is built with (4.x: the current line; `PinsetPinning` needs 3.13+).
const OKHTTP_ARTIFACT: &str = "com.squareup.okhttp3:okhttp:4.12.0";

pub(crate) fn render_cordova(model: &SiteTrust, options: &Options) -> Export {
    let target = Target::CordovaPlugin;
    let mut export = Export::new(target);
    let name = format!("cordova-plugin-pinset-{}", model.ident());
    let c = |lines: &'static str| Safe::comment_lines(lines, &text::provenance(model, target.name()));
    let fill = Fill::new().text("provenance", c("// "));

    let package = serde_json::json!({
        "name": name,
        "version": PLUGIN_VERSION,
        "description": format!("HTTPS to the servers of site {} with its anchors and pins, in native code", text::comment_safe(&model.site)),
        "//": text::provenance(model, target.name()),
        "license": "UNLICENSED",
        "private": true,
        "cordova": { "id": name, "platforms": ["android", "ios"] },
        "keywords": ["ecosystem:cordova", "cordova-android", "cordova-ios"],
        "engines": { "cordovaDependencies": { "1.0.0": { "cordova-android": ">=12.0.0", "cordova-ios": ">=7.0.0" } } },
    });
    export.files.push(ExportFile::text(
        "package.json",
        json(&package),
        "the plugin's npm package: `cordova plugin add ./cordova-plugin` reads it",
    ));
    export.files.push(ExportFile::text("plugin.xml", plugin_xml(model, &name), "the plugin's manifest for Cordova"));
    export.files.push(ExportFile::text(
        "www/pinset.js",
        PINSET_JS.render(&fill).into_string(),
        "the JavaScript API, `pinset.fetch(url, options)` (a Promise)",
    ));
    push_ios(&mut export, model, options, "src/ios", CORDOVA_SWIFT, &fill);
    push_android(&mut export, model, options, "src/android", CORDOVA_JAVA, &fill);
    export.files.push(ExportFile::text(
        "README.md",
        readme(model, options, &name, target),
        "how to add the plugin to an app, what it checks, what could not be built here",
    ));
    export.usage = format!(
        "`cordova plugin add ./cordova-plugin` (the folder), then in the app, after `deviceready`: \
         `const r = await pinset.fetch('https://{}/', {{method: 'GET'}})`. Its README says more.\n",
        model.example_host()
    );
    warn_common(&mut export, options);
    export
}

pub(crate) fn render_capacitor(model: &SiteTrust, options: &Options) -> Export {
    let target = Target::CapacitorPlugin;
    let mut export = Export::new(target);
    let name = format!("capacitor-plugin-pinset-{}", model.ident());
    let c = |lines: &'static str| Safe::comment_lines(lines, &text::provenance(model, target.name()));
    let fill = Fill::new().text("provenance", c("// "));
    let package = serde_json::json!({
        "name": name,
        "version": PLUGIN_VERSION,
        "description": format!("HTTPS to the servers of site {} with its anchors and pins, in native code", text::comment_safe(&model.site)),
        "//": text::provenance(model, target.name()),
        "license": "UNLICENSED",
        "private": true,
        "main": "dist/esm/index.js",
        "module": "dist/esm/index.js",
        "types": "dist/esm/index.d.ts",
        "files": ["android/src/main/", "android/build.gradle", "dist/", "ios/Sources/", "Package.swift", "PinsetPlugin.podspec"],
        "scripts": { "build": "tsc" },
        "capacitor": { "ios": { "src": "ios" }, "android": { "src": "android" } },
        "peerDependencies": { "@capacitor/core": ">=7.0.0" },
        "keywords": ["capacitor", "plugin", "native"],
    });
    export.files.push(ExportFile::text(
        "package.json",
        json(&package),
        "the plugin's npm package: `npm install ./capacitor-plugin` reads it",
    ));
    for (path, template, about) in [
        ("src/definitions.ts", DEFINITIONS_TS, "TypeScript definitions of `Pinset.fetch`"),
        ("src/index.ts", INDEX_TS, "the plugin's entry: `registerPlugin('Pinset')`"),
        ("dist/esm/definitions.js", DIST_DEFINITIONS_JS, "what `tsc` compiles from `src/definitions.ts`"),
        ("dist/esm/definitions.d.ts", DIST_DEFINITIONS_DTS, "what `tsc` declares from `src/definitions.ts`"),
        ("dist/esm/index.js", DIST_INDEX_JS, "what `tsc` compiles from `src/index.ts`: the module apps import"),
        ("dist/esm/index.d.ts", DIST_INDEX_DTS, "what `tsc` declares from `src/index.ts`"),
        ("tsconfig.json", TSCONFIG, "TypeScript settings: `npm run build` writes `dist/esm/` again"),
        ("Package.swift", PACKAGE_SWIFT, "the iOS side for Swift Package Manager"),
        ("android/build.gradle", BUILD_GRADLE, "the Android library: the Java sources and OkHttp"),
    ] {
        export.files.push(ExportFile::text(path, template.render(&fill).into_string(), about));
    }
    let ruby = Fill::new().text("provenance", c("# "));
    export.files.push(ExportFile::text(
        "PinsetPlugin.podspec",
        PODSPEC.render(&ruby).into_string(),
        "the iOS side for CocoaPods",
    ));
    export.files.push(ExportFile::text(
        "android/src/main/AndroidManifest.xml",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <manifest xmlns:android=\"http://schemas.android.com/apk/res/android\">\n    \
         <uses-permission android:name=\"android.permission.INTERNET\" />\n</manifest>\n",
        "the Android library's manifest: the INTERNET permission",
    ));
    push_ios(&mut export, model, options, "ios/Sources/PinsetPlugin", CAPACITOR_SWIFT, &fill);
    push_android(&mut export, model, options, "android/src/main/java", CAPACITOR_JAVA, &fill);
    export.files.push(ExportFile::text(
        "README.md",
        readme(model, options, &name, target),
        "how to add the plugin to an app, what it checks, what could not be built here",
    ));
    export.usage = format!(
        "`npm install ./capacitor-plugin` and `npx cap sync`, then `import {{ Pinset }} from '{name}'; \
         const r = await Pinset.fetch({{ url: 'https://{}/' }})`. Its README says more.\n",
        model.example_host()
    );
    warn_common(&mut export, options);
    export
}

/// The iOS sources: `PinsetTrust.swift` as the ios export writes it, `PinsetFetch.swift`,
/// and the framework's plugin class.
fn push_ios(export: &mut Export, model: &SiteTrust, options: &Options, dir: &str, plugin: Template, fill: &Fill) {
    export.files.push(ExportFile::text(
        format!("{dir}/PinsetTrust.swift"),
        ios::swift(model, export.target.name(), options.debug_ca.as_ref()),
        "the URLSession delegate of the `ios` export: the site's anchors only, the address, then the pins",
    ));
    export.files.push(ExportFile::text(
        format!("{dir}/PinsetFetch.swift"),
        FETCH_SWIFT.render(fill).into_string(),
        "one request through `PinsetTrust`, https:// only, no redirect to http://",
    ));
    export.files.push(ExportFile::text(
        format!("{dir}/PinsetPlugin.swift"),
        plugin.render(fill).into_string(),
        "the plugin class the framework calls (iOS)",
    ));
}

/// The Android sources: the okhttp export's `PinsetPinning.java`, `PinsetHttp.java` with the
/// anchors (and the debug proxy CA), and the framework's plugin class.
fn push_android(export: &mut Export, model: &SiteTrust, options: &Options, dir: &str, plugin: Template, fill: &Fill) {
    let framework = match export.target {
        Target::CordovaPlugin => "cordova",
        _ => "capacitor",
    };
    export.files.push(ExportFile::text(
        format!("{dir}/pinset/PinsetPinning.java"),
        okhttp::java(model, export.target.name()),
        "the OkHttp client of the `okhttp` export: the site's anchors, the address, the pins, TLS only",
    ));
    let lines = |pem: &str| -> Vec<Fill> {
        let rows: Vec<&str> = pem.lines().collect();
        rows.iter()
            .enumerate()
            .map(|(i, l)| Fill::new().text("line", Safe::quoted_line(l)).flag("last", i + 1 == rows.len()))
            .collect()
    };
    let anchors_pem = model.anchors_pem();
    let http = fill
        .clone()
        .text("site_doc", Safe::comment(&text::quote(&model.site)))
        .list("anchor_lines", lines(&anchors_pem))
        .flag("debug", options.debug_ca.is_some())
        .list("debug_lines", options.debug_ca.as_ref().map(|ca| lines(&ca.pem)).unwrap_or_default())
        .text(
            "debug_subject",
            Safe::comment(&options.debug_ca.as_ref().map(|ca| ca.subject.clone()).unwrap_or_default()),
        );
    export.files.push(ExportFile::text(
        format!("{dir}/pinset/PinsetHttp.java"),
        HTTP_JAVA.render(&http).into_string(),
        "requests on `PinsetPinning`'s client, with the site's anchors (JDK and OkHttp only)",
    ));
    export.files.push(ExportFile::text(
        format!("{dir}/pinset/{framework}/PinsetPlugin.java"),
        plugin.render(fill).into_string(),
        "the plugin class the framework calls (Android)",
    ));
}

/// `plugin.xml`.
fn plugin_xml(model: &SiteTrust, id: &str) -> String {
    let mut xml = super::mobile::Xml::new("UTF-8");
    xml.comment(&text::provenance(model, "cordova-plugin"));
    xml.open(
        "plugin",
        &[
            ("xmlns", "http://apache.org/cordova/ns/plugins/1.0"),
            ("xmlns:android", "http://schemas.android.com/apk/res/android"),
            ("id", id),
            ("version", PLUGIN_VERSION),
        ],
    );
    xml.element("name", &[], "pinset");
    xml.element(
        "description",
        &[],
        &format!("HTTPS to the servers of site {} with its anchors and pins, in native code", model.site),
    );
    xml.element("license", &[], "UNLICENSED");
    xml.open("engines", &[]);
    xml.empty("engine", &[("name", "cordova-android"), ("version", ">=12.0.0")]);
    xml.empty("engine", &[("name", "cordova-ios"), ("version", ">=7.0.0")]);
    xml.close("engines");
    xml.open("js-module", &[("src", "www/pinset.js"), ("name", "pinset")]);
    xml.empty("clobbers", &[("target", "pinset")]);
    xml.close("js-module");

    xml.open("platform", &[("name", "ios")]);
    xml.open("config-file", &[("target", "config.xml"), ("parent", "/*")]);
    xml.open("feature", &[("name", "Pinset")]);
    xml.empty("param", &[("name", "ios-package"), ("value", "PinsetPlugin")]);
    xml.close("feature");
    xml.close("config-file");
    for f in ["PinsetTrust.swift", "PinsetFetch.swift", "PinsetPlugin.swift"] {
        xml.empty("source-file", &[("src", &format!("src/ios/{f}"))]);
    }
    xml.close("platform");

    xml.open("platform", &[("name", "android")]);
    xml.open("config-file", &[("target", "res/xml/config.xml"), ("parent", "/*")]);
    xml.open("feature", &[("name", "Pinset")]);
    xml.empty("param", &[("name", "android-package"), ("value", "pinset.cordova.PinsetPlugin")]);
    xml.close("feature");
    xml.close("config-file");
    xml.open("config-file", &[("target", "AndroidManifest.xml"), ("parent", "/manifest")]);
    xml.empty("uses-permission", &[("android:name", "android.permission.INTERNET")]);
    xml.close("config-file");
    for (src, dir) in [
        ("pinset/PinsetPinning.java", "src/pinset"),
        ("pinset/PinsetHttp.java", "src/pinset"),
        ("pinset/cordova/PinsetPlugin.java", "src/pinset/cordova"),
    ] {
        xml.empty("source-file", &[("src", &format!("src/android/{src}")), ("target-dir", dir)]);
    }
    xml.empty("framework", &[("src", OKHTTP_ARTIFACT)]);
    xml.close("platform");
    xml.close("plugin");
    xml.finish()
}

fn json(value: &serde_json::Value) -> String {
    let mut out = serde_json::to_string_pretty(value).unwrap_or_default();
    out.push('\n');
    out
}

fn warn_common(export: &mut Export, options: &Options) {
    if let Some(ca) = &options.debug_ca {
        export.warn(
            "plugin-debug-ca",
            format!(
                "debug builds also accept chains of the proxy CA {} (pin {}) without pins: iOS when compiled with \
                 DEBUG (Xcode's Debug configuration), Android when the app is debuggable (FLAG_DEBUGGABLE, never set \
                 in a release build); release builds are unaffected",
                text::comment_safe(&ca.subject),
                ca.pin.to_base64()
            ),
        );
    }
}

/// The plugin's README.
fn readme(model: &SiteTrust, options: &Options, name: &str, target: Target) -> String {
    let site = text::comment_safe(&model.site);
    let host = model.example_host();
    let (add, call, ios_dir, android_dir) = match target {
        Target::CordovaPlugin => (
            format!(
                "```sh\ncordova plugin add ./cordova-plugin   # this folder, wherever you keep it\ncordova build ios android\n```\n\n\
                 Requires cordova-ios 7 or later (Swift plugins) and cordova-android 12 or later. Then, after `deviceready`:\n\n\
                 ```js\nconst response = await pinset.fetch(\"https://{host}/\", {{ method: \"GET\", headers: {{ Accept: \"application/json\" }} }});\n\
                 console.log(response.status, response.headers, response.body);\n```\n"
            ),
            "pinset.fetch(url, options)",
            "src/ios/",
            "src/android/",
        ),
        _ => (
            format!(
                "```sh\nnpm install ./capacitor-plugin   # this folder, wherever you keep it\nnpx cap sync\n```\n\n\
                 Works with Capacitor 7 and 8 (Swift Package Manager through `Package.swift`, or CocoaPods through \
                 `PinsetPlugin.podspec`). Then:\n\n\
                 ```ts\nimport {{ Pinset }} from '{name}';\n\n\
                 const response = await Pinset.fetch({{ url: 'https://{host}/', method: 'GET' }});\n\
                 console.log(response.status, response.headers, response.body);\n```\n"
            ),
            "Pinset.fetch({url, …})",
            "ios/Sources/PinsetPlugin/",
            "android/src/main/java/",
        ),
    };
    let mut md = format!("# {name}: pinned HTTPS to site \"{site}\" from native code\n\n");
    md.push_str(&format!(
        "Written by `pinset export {}`. Do not edit by hand: export again after every key rotation and\n\
         ship the result.\n\n",
        target.name()
    ));
    md.push_str(&format!(
        "`{call}` makes the request in native code, which trusts **only the site's anchors**, checks that\n\
         the certificate names the address dialled (an IP address as an iPAddress SAN), then requires a\n\
         **pinned key** in the validated chain. It is the way to pin a server reached by IP address on\n\
         iOS: the generic plugins' pinning runs after the system's own trust evaluation, which refuses\n\
         a private CA and IP hosts before the pins are looked at. TLS only: an `http://` URL is refused\n\
         and a redirect to `http://` is not followed.\n\n## Add it to an app\n\n{add}\n"
    ));
    md.push_str(
        "It resolves with `{status, headers, body, url}` (headers lower case, the body as text) and\n\
         rejects with the reason a server was refused (on Android, OkHttp's `Certificate pinning failure!`\n\
         report). iOS 14+ asks the user before an app reaches the local network: add\n\
         `NSLocalNetworkUsageDescription` to the app's `Info.plist`.\n\n## What is inside\n\n",
    );
    md.push_str(&format!(
        "- `{ios_dir}PinsetTrust.swift`: the `ios` export's URLSession delegate, unchanged: the site's anchors,\n  \
         the address, the pins (iOS 13+).\n\
         - `{ios_dir}PinsetFetch.swift`: one request through it.\n\
         - `{android_dir}pinset/PinsetPinning.java`: the `okhttp` export's client (OkHttp 3.13+).\n\
         - `{android_dir}pinset/PinsetHttp.java`: requests on that client, the anchors built in.\n\
         - `PinsetPlugin.swift` and `PinsetPlugin.java`: the classes the framework calls.\n\n"
    ));
    md.push_str("## Testing with an interception proxy\n\n");
    match &options.debug_ca {
        Some(ca) => md.push_str(&format!(
            "This export trusts the proxy CA `{}` (pin `{}`) in **debug builds only**, without pins (the\n\
             proxy forges every leaf): iOS when compiled with `DEBUG` (Xcode's Debug configuration), Android\n\
             when the app is debuggable (`FLAG_DEBUGGABLE`, never set in a release build). A chain of the\n\
             site's own anchors keeps its pins. Release builds are unaffected. Export again without\n\
             `--debug-overrides` to take it out.\n\n",
            text::comment_safe(&ca.subject),
            ca.pin.to_base64()
        )),
        None => md.push_str(
            "To inspect the app's own traffic with a proxy during development, export again with\n\
             `--debug-overrides PROXY-CA.pem`: debug builds then also trust that CA (without pins), release\n\
             builds never.\n\n",
        ),
    }
    md.push_str(
        "## What was checked where this was made, and what was not\n\n\
         pinset's tests parse the Swift and Java with tree-sitter grammars, compile `PinsetPinning.java` and\n\
         `PinsetHttp.java` with javac against OkHttp and run them against real TLS servers, validate\n\
         `plugin.xml` and `package.json`",
    );
    if target == Target::CapacitorPlugin {
        md.push_str(", and type-check the TypeScript with `tsc` against `@capacitor/core`'s own typings (the\n`dist/` files are what `tsc` emits)");
    }
    md.push_str(
        ". Not compiled there: the Swift (no Swift toolchain for Apple platforms), and the plugin\n\
         classes `PinsetPlugin.java`, which extend the framework's Android classes and need the Android\n\
         SDK; no stand-in for Android was used. Build the app once for each platform before shipping.\n",
    );
    md
}

const PINSET_JS: Template = template!("plugin/pinset.js");
const FETCH_SWIFT: Template = template!("plugin/PinsetFetch.swift");
const CORDOVA_SWIFT: Template = template!("plugin/CordovaPlugin.swift");
const CAPACITOR_SWIFT: Template = template!("plugin/CapacitorPlugin.swift");
const HTTP_JAVA: Template = template!("plugin/PinsetHttp.java");
const CORDOVA_JAVA: Template = template!("plugin/CordovaPlugin.java");
const CAPACITOR_JAVA: Template = template!("plugin/CapacitorPlugin.java");
const DEFINITIONS_TS: Template = template!("plugin/definitions.ts");
const INDEX_TS: Template = template!("plugin/index.ts");
const DIST_DEFINITIONS_JS: Template = template!("plugin/dist-definitions.js");
const DIST_DEFINITIONS_DTS: Template = template!("plugin/dist-definitions.d.ts");
const DIST_INDEX_JS: Template = template!("plugin/dist-index.js");
const DIST_INDEX_DTS: Template = template!("plugin/dist-index.d.ts");
const TSCONFIG: Template = template!("plugin/tsconfig.json");
const PACKAGE_SWIFT: Template = template!("plugin/Package.swift");
const BUILD_GRADLE: Template = template!("plugin/build.gradle");
const PODSPEC: Template = template!("plugin/PinsetPlugin.podspec");
