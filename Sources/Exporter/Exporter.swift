public enum ExporterModule {}
