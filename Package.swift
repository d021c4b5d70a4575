// swift-tools-version:6.0
import PackageDescription

// Linux only (tracefs, glibc, libmicrohttpd): no Apple platform is declared, as none is supported.
let package = Package(
    name: "ftrace_exporter",
    products: [
        .executable(name: "ftrace_exporter", targets: ["ftrace_exporter"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // Pure: hist-file and trigger-info parsing. No I/O, no Foundation.
        .target(name: "HistFormat"),
        // Pure: metric families to Prometheus text 0.0.4 and OpenMetrics 1.0 bytes.
        .target(name: "Exposition"),
        // Pure: kernel stacks to folded text, pprof protobuf and SVG flame graphs. No I/O.
        .target(name: "StackFormats"),
        // cgroup v2 ids to paths, and the Kubernetes pod and container a path names.
        .target(name: "Cgroups", dependencies: ["Locking"]),
        // Linux and glibc headers Swift's Glibc module leaves out (statfs, mallinfo2).
        .systemLibrary(name: "CLinux"),
        // The system calls the libraries share, in Swift: the one whole-file reader, the
        // filesystem a path is on, the allocator's figures.
        .target(name: "Platform", dependencies: ["CLinux", "CProcessArguments"]),
        // argc and argv as the C library hands them over, /proc or not.
        .target(name: "CProcessArguments"),
        // The one door to tracefs.
        .target(name: "TraceFS", dependencies: ["HistFormat", "Platform"]),
        // A pthread mutex and a value behind one, visible to ThreadSanitizer.
        .target(name: "Locking"),
        // An in-memory model of the kernel's tracefs control semantics, for tests.
        .target(name: "TraceFSTesting", dependencies: ["TraceFS", "HistFormat", "Locking", "Platform"]),
        // libmicrohttpd (Debian: libmicrohttpd-dev); the only place C is touched.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // zlib for gzip responses (Debian: zlib1g-dev).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // libxcrypt for bcrypt password hashes (Debian: libcrypt-dev).
        .systemLibrary(name: "CCrypt", pkgConfig: "libxcrypt", providers: [.apt(["libcrypt-dev"])]),
        // libyaml (Debian: libyaml-dev) for the configuration files.
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // YAML text to one document's tree of nodes, each with its line and column, over libyaml.
        .target(name: "YAML", dependencies: ["CYAML"]),
        // The embedded HTTP server: libmicrohttpd daemon, routing, responses, compression, TLS,
        // basic auth.
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD", "CZlib", "CCrypt", "Locking"]),
        // Stamps the build with its git revision (unknown outside a checkout) for --version.
        .plugin(name: "BuildStamp", capability: .buildTool(), path: "Sources/BuildStamp"),
        // Config, trigger sets, hist -> metric mapping, the refresh loop and its snapshots,
        // reload. No HTTP: the snapshot holds plain bytes.
        .target(
            name: "Exporter",
            dependencies: [
                "HistFormat", "Exposition", "StackFormats", "TraceFS", "Locking", "Platform", "YAML", "Cgroups",
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["BuildStamp"]
        ),
        // The exporter over HTTP: routes, scrape bodies, admin API and its auth, the web
        // configuration file (TLS, basic auth, headers, rate limit).
        .target(
            name: "ExporterWeb",
            dependencies: [
                "Exporter", "Exposition", "HTTPServer", "Locking", "Platform", "StackFormats", "TraceFS", "YAML",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "ftrace_exporter",
            dependencies: [
                "Exporter", "ExporterWeb", "TraceFS", "Exposition", "HTTPServer", "Locking", "Platform",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Benchmarks that print numbers against an in-process baseline (`make bench`).
        .executableTarget(
            name: "ftrace_exporter_bench",
            dependencies: [
                "HistFormat", "Exposition", "Exporter", "ExporterWeb", "HTTPServer", "Locking", "TraceFS", "TraceFSTesting",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // libFuzzer targets (`scripts/fuzz`); an ordinary build runs the inputs named on the
        // command line once each, to replay a finding.
        .target(name: "FuzzSupport", dependencies: ["Exposition"], path: "Tests/Fuzz/FuzzSupport"),
        .executableTarget(
            name: "fuzz_hist",
            dependencies: [
                "FuzzSupport", "HistFormat", "Exposition", "Exporter", "TraceFS", "TraceFSTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Fuzz/fuzz_hist"
        ),
        .executableTarget(name: "fuzz_trigger_info", dependencies: ["FuzzSupport", "HistFormat"], path: "Tests/Fuzz/fuzz_trigger_info"),
        .executableTarget(
            name: "fuzz_config",
            dependencies: [
                "FuzzSupport", "HistFormat", "Exposition", "Exporter", "TraceFS", "TraceFSTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Fuzz/fuzz_config"
        ),
        .executableTarget(
            name: "fuzz_http",
            dependencies: [
                "FuzzSupport", "Exposition", "Exporter", "ExporterWeb", "HTTPServer", "TraceFS", "TraceFSTesting",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/Fuzz/fuzz_http"
        ),
        .testTarget(name: "HistFormatTests", dependencies: ["HistFormat"]),
        .testTarget(name: "ExpositionTests", dependencies: ["Exposition"]),
        // The corpus's stack tables through every format; protoc decodes the pprof bytes and
        // headless Chromium renders the flame graph, whose screenshot zlib inflates.
        .testTarget(name: "StackFormatsTests", dependencies: ["StackFormats", "HistFormat", "CZlib"]),
        .testTarget(name: "PlatformTests", dependencies: ["Platform"]),
        .testTarget(name: "CgroupsTests", dependencies: ["Cgroups", "Locking"]),
        .testTarget(name: "YAMLTests", dependencies: ["YAML"]),
        // The command's flag parsing and --help without running the binary, and what the binary
        // links (scripts/check-no-foundation).
        .testTarget(name: "ftrace_exporterTests", dependencies: ["ftrace_exporter"]),
        .testTarget(name: "TraceFSTests", dependencies: ["TraceFS", "TraceFSTesting", "HistFormat", "TestKit"]),
        // What the test targets share: certificates made by openssl, curl, a Prometheus server,
        // a tracefs mount, web configuration and secret files, a quiet logger.
        .target(name: "TestKit", dependencies: [.product(name: "Logging", package: "swift-log")], path: "Tests/TestKit"),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "TestKit"]),
        .testTarget(
            name: "ExporterTests",
            dependencies: [
                "Exporter", "HistFormat", "Exposition", "Locking", "TraceFS", "TraceFSTesting", "Platform", "TestKit", "Cgroups",
                .product(name: "Logging", package: "swift-log"),
                // The README's configuration example is read as YAML to check it against the loader.
                "YAML",
            ]
        ),
        .testTarget(
            name: "ExporterWebTests",
            dependencies: [
                "ExporterWeb", "Exporter", "HTTPServer", "Platform", "TraceFS", "TraceFSTesting", "TestKit",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The real-kernel scenarios, against the VM scripts/vm/scenarios boots; skipped without it.
        .testTarget(name: "KernelScenarioTests", dependencies: ["TestKit"]),
    ]
)
