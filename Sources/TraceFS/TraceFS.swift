import HistFormat
