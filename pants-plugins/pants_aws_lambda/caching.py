"""How the plugin's processes use a remote cache."""

# With a remote cache, Pants 2.17 starts a process locally at the same time as it looks its result
# up (a speculation delay of 0 ms), and keeps whichever finishes first. A step that takes less time
# than the lookup (compiling the bytecode of a few first-party modules) would then run on every
# machine instead of coming from the cache. Giving the lookup this long first costs nothing on a
# miss, which answers at once, and nothing without a remote cache.
REMOTE_CACHE_SPECULATION_DELAY_MS = 2_000
