"""Type stub of the compiled order book: the interface of the pure Python one."""

from lobsim.book.orderbook import PyOrderBook

class OrderBook(PyOrderBook):
    def _corrupt_level_qty(self, side: object, price: object, delta: int) -> None: ...
