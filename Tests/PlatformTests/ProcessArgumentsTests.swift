import Platform
import Testing

@Suite struct ProcessArgumentsTests {
    /// With /proc mounted both read the same command line; scripts/check-deb runs the binary in
    /// a root without /proc, where only the C library's argv still has it.
    @Test func theCLibrarysArgvIsTheCommandLine() {
        #expect(ProcessArguments.handedOver, "glibc hands argv to constructors")
        #expect(ProcessArguments.all == CommandLine.arguments)
        #expect(ProcessArguments.all.count >= 1)
    }
}
