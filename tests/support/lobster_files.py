"""Small LOBSTER files that look like real ones (a book from before the file, levels beyond
its depth, hidden executions, cross trades, halts, an attribution column), shared by the
LOBSTER tests."""

from __future__ import annotations

from pathlib import Path

# Before the file the book holds bids 99.99 x 5, 99.98 x 4 (beyond the 2-level view) and
# asks 100.01 x 3, 100.02 x 6, 100.03 x 2 (beyond view).
MESSAGES = ("34200.1,1,1,2,1000000,1,null",      # new bid 100.00 x 2 (id 1)
            "34200.2,4,900,3,1000100,-1,UBSS",   # the prior ask 100.01 executed: 100.03 scrolls in
            "34200.3,5,0,10,1000050,1,null",     # hidden execution
            "34200.4,3,1,2,1000000,1,null",      # id 1 deleted: 99.98 scrolls in
            "34200.5,6,0,100,1000150,1,null",    # cross trade
            "34200.6,7,0,0,-1,-1,null",          # halt
            "34200.7,1,2,1,1000200,-1,null")     # new ask 100.02 x 1 (id 2)
ORDERBOOK = ("1000100,3,1000000,2,1000200,6,999900,5",
             "1000200,6,1000000,2,1000300,2,999900,5",
             "1000200,6,1000000,2,1000300,2,999900,5",
             "1000200,6,999900,5,1000300,2,999800,4",
             "1000200,6,999900,5,1000300,2,999800,4",
             "1000200,6,999900,5,1000300,2,999800,4",
             "1000200,7,999900,5,1000300,2,999800,4")


STALE_BETTER = ("34200.1,1,2,3,1000000,1", "34200.2,1,1,1,1000100,1",  # id 1 later leaves out of view
                "34200.3,4,2,1,1000000,1")                            # an execution at 100.00


# A hand-made 2-level LOBSTER day: prices in dollars x 10000 (tick 0.01 = 100 units).
#   t=0.0  buy 10 @ 99.00 (id 1)       t=0.5  sell 5 @ 99.02 (id 2)
#   t=1.2  sell 4 @ 99.03 (id 3)       t=2.0  a buyer takes 5 @ 99.02 and 1 @ 99.03 (one order)
#   t=2.5  id 3 partly cancelled (1)   t=3.0  id 1 deleted
DAY_MESSAGES = ["34200.0,1,1,10,990000,1", "34200.5,1,2,5,990200,-1", "34201.2,1,3,4,990300,-1",
            "34202.0,4,2,5,990200,-1", "34202.0,4,3,1,990300,-1", "34202.5,2,3,1,990300,-1",
            "34203.0,3,1,10,990000,1"]
E_ASK, E_BID = "9999999999,0", "-9999999999,0"
DAY_ORDERBOOK = [f"{E_ASK},990000,10,{E_ASK},{E_BID}", "990200,5,990000,10," + f"{E_ASK},{E_BID}",
             "990200,5,990000,10,990300,4," + E_BID, "990300,4,990000,10," + f"{E_ASK},{E_BID}",
             "990300,3,990000,10," + f"{E_ASK},{E_BID}", "990300,2,990000,10," + f"{E_ASK},{E_BID}",
             f"990300,2,{E_BID},{E_ASK},{E_BID}"]


def write_rows(path: Path, rows: list[str]) -> Path:
    path.write_text("".join(row + "\n" for row in rows))
    return path
