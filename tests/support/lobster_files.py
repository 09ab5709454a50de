"""Small LOBSTER files that look like real ones (a book from before the file, levels beyond
its depth, hidden executions, cross trades, halts, an attribution column), shared by the
LOBSTER tests."""

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
