import Exporter
print("ftrace_exporter")
