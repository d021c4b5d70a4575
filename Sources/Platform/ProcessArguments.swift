import CProcessArguments

/// The program's command line, argv[0] first.
///
/// From the argv the C library handed to the program rather than `CommandLine.arguments`,
/// which on Linux reads /proc/self/cmdline and is empty where /proc is not mounted.
public enum ProcessArguments {
    /// Whether the C library handed argv over (glibc does; musl does not).
    package static var handedOver: Bool { process_argument_count() > 0 && process_argument_vector() != nil }

    public static var all: [String] {
        let count = Int(process_argument_count())
        guard count > 0, let vector = process_argument_vector() else { return CommandLine.arguments }
        return (0..<count).map { vector[$0].map { String(cString: $0) } ?? "" }
    }
}
