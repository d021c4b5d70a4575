/// The release this source tree builds.
public enum ExporterVersion {
    public static let version = "0.1.0"
}
