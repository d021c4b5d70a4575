import Logging
import TraceFS

/// SIGHUP's part for the configuration file: load it again and hand it to the controller, the
/// collector and the refresh loop; an invalid file, or one that changes what is fixed for the
/// life of the process, is rejected and the running configuration stays.
public final class ConfigReloader: Sendable {
    public struct Options: Sendable {
        /// nil: the built-in configuration, which a reload keeps.
        public var configFile: String?
        /// `--path.tracefs` was given: the file's `tracefs.path` is not used, so it may change.
        public var tracefsFromCommandLine: Bool
        /// `--refresh.interval`, which wins over the file's.
        public var refreshInterval: Double?
        /// The exporter holds its instance's lock, taken at start: the instance cannot change.
        public var holdsInstance: Bool

        public init(configFile: String?, tracefsFromCommandLine: Bool, refreshInterval: Double?, holdsInstance: Bool) {
            self.configFile = configFile
            self.tracefsFromCommandLine = tracefsFromCommandLine
            self.refreshInterval = refreshInterval
            self.holdsInstance = holdsInstance
        }
    }

    let options: Options
    let controller: TriggerController
    let refresher: Refresher
    let rotator: Rotator
    let metrics: ExporterMetrics
    let reader: any TraceFileReader
    let logger: Logger

    public init(
        options: Options, controller: TriggerController, refresher: Refresher, rotator: Rotator, metrics: ExporterMetrics,
        reader: any TraceFileReader, logger: Logger
    ) {
        self.options = options
        self.controller = controller
        self.refresher = refresher
        self.rotator = rotator
        self.metrics = metrics
        self.reader = reader
        self.logger = logger
    }

    /// `webTaken`: whether the web configuration, reloaded first by the web side, was taken; the
    /// reload counts as failed when either was rejected.
    /// Returns why the configuration file was rejected, nil when it was taken (or there is none).
    @discardableResult
    public func reload(webTaken: Bool = true) -> String? {
        guard let file = options.configFile else {
            logger.info("reload: no --config.file to reload; the built-in configuration stays")
            metrics.recordReload(successful: webTaken)
            refresher.rebuildAfterChange()
            return nil
        }
        do {
            let fresh = try ConfigSource.load(path: file).overriding(refreshInterval: options.refreshInterval)
            let current = controller.config
            // tracefs is located once, at start.
            if !options.tracefsFromCommandLine && fresh.tracefsPath != current.tracefsPath {
                throw ReloadConflict(reasons: [
                    "tracefs.path changes from '\(current.tracefsPath)' to '\(fresh.tracefsPath)': restart the exporter to use another tracefs",
                ])
            }
            if options.holdsInstance && fresh.instance != current.instance {
                throw ReloadConflict(reasons: [
                    "instance changes from '\(current.instance)' to '\(fresh.instance)': the exporter holds its instance for as long as it runs; restart it to use another",
                ])
            }
            try controller.replaceConfig(fresh)
            let collector = HistCollector(config: fresh, reader: reader, logger: logger, features: reader.features())
            collector.share(rotator.readings)
            metrics.recordReload(successful: webTaken)
            refresher.reload(collector: collector)
            logger.info("configuration reloaded", metadata: [
                "file": "\(file)", "trigger_sets": "\(fresh.triggerSets.count)", "refresh_interval": "\(fresh.refreshInterval)",
            ])
            return nil
        } catch {
            // Shown in the snapshot before it is logged, so what reads the log can scrape it.
            metrics.recordReload(successful: false)
            refresher.rebuildAfterChange()
            logger.error("configuration reload rejected; the running configuration stays", metadata: ["err": "\(error)"])
            return "\(error)"
        }
    }
}
