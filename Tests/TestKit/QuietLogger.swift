import Logging

/// A logger that drops everything, for tests that look at behaviour, not at log lines.
public let quietLogger: Logger = {
    var logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    logger.logLevel = .critical
    return logger
}()
