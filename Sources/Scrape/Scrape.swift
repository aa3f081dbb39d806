import TSDB
