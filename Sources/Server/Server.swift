import TSDB
import PromQL
import Scrape
