"""The page's tabs, one module each, in the order they show: each has `build(page)`, which makes
its widgets inside its tab and wires its own handlers, and may have `connect(page)`, which wires
what it changes in other tabs once every tab is built."""

from . import add, articles, chat, evaluate, feedback, lookup

TABS = (chat, lookup, articles, evaluate, feedback, add)

__all__ = ["TABS"]
