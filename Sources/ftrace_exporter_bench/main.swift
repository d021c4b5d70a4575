print("benchmarks are being written")
