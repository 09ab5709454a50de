# cython: language_level=3
"""The compiled book's C structures and their O(1) operations (used by ``_cbook.pyx``).

Levels, in a pool of chunks that never move and named by 4-byte numbers, each with an
array queue of its orders; the used-id set and the order table, both open-addressing
tables of int64 keys, the order table holding the orders themselves; the C helpers that
build report tuples, chain the garbage collector's hooks and allocate on huge pages.
"""

from cpython.object cimport PyObject, PyTypeObject
from libc.stdint cimport int64_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memset
from libcpp.utility cimport pair

cdef extern from *:
    """
    /* Reports are built straight into the NamedTuple subtype, as tuple.__new__ does
       (tuple_subtype_new) but without its temporary tuple: 3.11-3.13 tuples are their
       items and nothing else. Later versions may keep more in a tuple (a cached hash),
       so there tuple.__new__ itself makes the instance. */
    #if PY_VERSION_HEX < 0x030E0000
    #define LOB_DIRECT_TUPLES 1
    #endif

    static PyObject* lob_alloc(PyTypeObject* type, Py_ssize_t n) {
    #ifdef LOB_DIRECT_TUPLES
        return type->tp_alloc(type, n);
    #else
        return PyTuple_New(n);
    #endif
    }

    static PyObject* lob_finish(PyTypeObject* type, PyObject* t) {
    #ifdef LOB_DIRECT_TUPLES
        if (!PyObject_GC_IsTracked(t)) PyObject_GC_Track(t);
        return t;
    #else
        PyObject* args = PyTuple_Pack(1, t);
        Py_DECREF(t);
        if (args == NULL) return NULL;
        PyObject* made = PyTuple_Type.tp_new(type, args, NULL);
        Py_DECREF(args);
        return made;
    #endif
    }

    #define LOB_SET(t, i, o) do { PyObject* o_ = (o); Py_INCREF(o_); PyTuple_SET_ITEM(t, i, o_); } while (0)

    static PyObject* lob_report3(PyTypeObject* type, PyObject* a, PyObject* b, PyObject* c) {
        PyObject* t = lob_alloc(type, 3);
        if (t == NULL) return NULL;
        LOB_SET(t, 0, a); LOB_SET(t, 1, b); LOB_SET(t, 2, c);
        return lob_finish(type, t);
    }

    static PyObject* lob_report4(PyTypeObject* type, PyObject* a, PyObject* b, PyObject* c,
                                 PyObject* d) {
        PyObject* t = lob_alloc(type, 4);
        if (t == NULL) return NULL;
        LOB_SET(t, 0, a); LOB_SET(t, 1, b); LOB_SET(t, 2, c); LOB_SET(t, 3, d);
        return lob_finish(type, t);
    }

    static PyObject* lob_report6(PyTypeObject* type, PyObject* a, PyObject* b, PyObject* c,
                                 PyObject* d, PyObject* e, PyObject* f) {
        PyObject* t = lob_alloc(type, 6);
        if (t == NULL) return NULL;
        LOB_SET(t, 0, a); LOB_SET(t, 1, b); LOB_SET(t, 2, c); LOB_SET(t, 3, d);
        LOB_SET(t, 4, e); LOB_SET(t, 5, f);
        return lob_finish(type, t);
    }

    static PyObject* lob_report7(PyTypeObject* type, PyObject* a, PyObject* b, PyObject* c,
                                 PyObject* d, PyObject* e, PyObject* f, PyObject* g) {
        PyObject* t = lob_alloc(type, 7);
        if (t == NULL) return NULL;
        LOB_SET(t, 0, a); LOB_SET(t, 1, b); LOB_SET(t, 2, c); LOB_SET(t, 3, d);
        LOB_SET(t, 4, e); LOB_SET(t, 5, f); LOB_SET(t, 6, g);
        return lob_finish(type, t);
    }

    static PyObject* lob_report8(PyTypeObject* type, PyObject* a, PyObject* b, PyObject* c,
                                 PyObject* d, PyObject* e, PyObject* f, PyObject* g,
                                 PyObject* h) {
        PyObject* t = lob_alloc(type, 8);
        if (t == NULL) return NULL;
        LOB_SET(t, 0, a); LOB_SET(t, 1, b); LOB_SET(t, 2, c); LOB_SET(t, 3, d);
        LOB_SET(t, 4, e); LOB_SET(t, 5, f); LOB_SET(t, 6, g); LOB_SET(t, 7, h);
        return lob_finish(type, t);
    }

    /* Cython generates tp_traverse/tp_clear for Python attributes only; the references
       held in the C order table are added by chaining these in front of them. */
    typedef int (*lob_visit_fn)(PyObject*, visitproc, void*);
    typedef int (*lob_clear_fn)(PyObject*);
    static traverseproc lob_base_traverse = NULL;
    static inquiry lob_base_clear = NULL;
    static lob_visit_fn lob_visit_nodes = NULL;
    static lob_clear_fn lob_clear_nodes = NULL;

    static int lob_traverse(PyObject* o, visitproc visit, void* arg) {
        int r = lob_base_traverse ? lob_base_traverse(o, visit, arg) : 0;
        return r ? r : lob_visit_nodes(o, visit, arg);
    }

    static int lob_clear(PyObject* o) {
        lob_clear_nodes(o);
        return lob_base_clear ? lob_base_clear(o) : 0;
    }

    static void lob_install_gc(PyTypeObject* type, void* visit_nodes, void* clear_nodes) {
        lob_visit_nodes = (lob_visit_fn)visit_nodes;
        lob_clear_nodes = (lob_clear_fn)clear_nodes;
        lob_base_traverse = type->tp_traverse;
        lob_base_clear = type->tp_clear;
        type->tp_traverse = lob_traverse;
        type->tp_clear = lob_clear;
    }

    /* Start loading an order we will touch soon, so that its cache miss overlaps work. */
    #if defined(__GNUC__) || defined(__clang__)
    #define lob_prefetch(p) __builtin_prefetch((const void*)(p), 1)
    #else
    #define lob_prefetch(p) ((void)(p))
    #endif

    /* Big blocks (the id tables) go on 2 MiB-aligned memory advised to use transparent
       huge pages: a 10^5-order book touches its order table at random, and with 4 KiB
       pages most of those touches also miss the TLB. */
    #include <stdlib.h>
    #if defined(__linux__)
    #include <sys/mman.h>
    #endif
    #define LOB_HUGE ((size_t)2 << 20)
    static void* lob_malloc(size_t size) {
    #if defined(__linux__) && defined(MADV_HUGEPAGE)
        if (size >= LOB_HUGE) {
            void* p = NULL;
            size = (size + LOB_HUGE - 1) & ~(LOB_HUGE - 1);
            if (posix_memalign(&p, LOB_HUGE, size) != 0) return NULL;
            madvise(p, size, MADV_HUGEPAGE);
            return p;
        }
    #endif
        return malloc(size);
    }

    #define LOB_EMPTY INT64_MIN
    #define LOB_FREED (INT64_MIN + 1)
    """
    ctypedef int (*visitproc)(PyObject*, void*) noexcept
    object lob_report3(PyTypeObject*, PyObject*, PyObject*, PyObject*)
    object lob_report4(PyTypeObject*, PyObject*, PyObject*, PyObject*, PyObject*)
    object lob_report6(PyTypeObject*, PyObject*, PyObject*, PyObject*, PyObject*, PyObject*,
                       PyObject*)
    object lob_report7(PyTypeObject*, PyObject*, PyObject*, PyObject*, PyObject*, PyObject*,
                       PyObject*, PyObject*)
    object lob_report8(PyTypeObject*, PyObject*, PyObject*, PyObject*, PyObject*, PyObject*,
                       PyObject*, PyObject*, PyObject*)
    void lob_install_gc(PyTypeObject*, void*, void*)
    void lob_prefetch(void*) noexcept nogil
    void* lob_malloc(size_t) noexcept nogil
    #: a never-used slot of the used-id set or of the order table
    const int64_t EMPTY "LOB_EMPTY"
    const int64_t NEVER "LOB_EMPTY"
    #: an order-table slot whose order was taken off the book
    const int64_t FREED "LOB_FREED"


# Levels are named by 4-byte numbers: chunk << LEVEL_BITS | offset into a pool of chunks
# that never move; numbers 0 and 1 are no level. Orders are named by their slot in the
# order table (below), which moves them only when it rehashes.

cdef enum:
    LEVEL_BITS = 10
    LEVEL_MASK = (1 << 30) - 1  # the level number in Order.level
    POST_ONLY = 1 << 30  # flags in Order.level
    ID_OBJECT = 1u << 31  # the id is not the plain int ``key``: it is in OrderBook._ids
    BIG_QTY = 0xFFFFFFFFu  # Order.qty: the lots are in OrderBook._big_qty

cdef struct Level:
    uint32_t* queue  # owned: order-table slots, oldest first, or DEAD; entries before head are garbage
    uint32_t head  # the first entry matching has not passed; doubles as the free-list link
    uint32_t end  # entries written
    uint32_t cap  # entries allocated
    uint32_t count  # live orders
    uint32_t num  # its own number
    int side  # +1 buy, -1 sell
    int64_t price  # ticks
    int64_t qty  # total lots of the live orders
    PyObject* py_price  # owned: the price as reported, built once per level

cdef struct Order:  # 32 bytes: the book's memory per order slot, and so its cache footprint
    int64_t key  # the id's key in both id tables; NEVER or FREED in a slot with no order
    PyObject* owner  # owned
    uint32_t qty  # remaining lots, > 0, or BIG_QTY
    uint32_t level  # level number (0: none yet) | POST_ONLY | ID_OBJECT
    uint32_t pos  # its entry in the level's queue
    uint32_t spare

ctypedef pair[int64_t, Level*] LevelEntry


# ---------------------------------------------------------------------- the level pool

cdef struct Pool:
    char** chunks
    size_t nchunks
    size_t carved  # items handed out of the last chunk so far
    uint32_t free  # number of the last freed item, 0 for none
    size_t used  # items in use


cdef inline Level* _level(const Pool* pool, uint32_t num) noexcept nogil:
    return <Level*>pool.chunks[num >> LEVEL_BITS] + (num & ((1 << LEVEL_BITS) - 1))


cdef inline uint32_t _pool_carve(Pool* pool, int bits, size_t size) except 0:
    """The number of the next never-used item, in a new chunk if need be. O(1)."""
    cdef uint32_t num
    cdef char** chunks
    cdef char* chunk
    if pool.nchunks == 0 or pool.carved == (<size_t>1 << bits):
        chunks = <char**>realloc(pool.chunks, (pool.nchunks + 1) * sizeof(char*))
        if chunks == NULL:
            raise MemoryError()
        pool.chunks = chunks
        chunk = <char*>malloc(size << bits)
        if chunk == NULL:
            raise MemoryError()
        pool.chunks[pool.nchunks] = chunk
        pool.nchunks += 1
        pool.carved = 2 if pool.nchunks == 1 else 0  # numbers 0 and 1 are not items
    num = <uint32_t>(((pool.nchunks - 1) << bits) | pool.carved)
    pool.carved += 1
    return num


cdef inline void _pool_release(Pool* pool) noexcept nogil:
    cdef size_t i
    for i in range(pool.nchunks):
        free(pool.chunks[i])
    free(pool.chunks)


cdef inline Level* _new_level(Pool* levels) except NULL:
    """An empty level with no queue. O(1)."""
    cdef Level* level
    cdef uint32_t num
    if levels.free:
        num = levels.free
        level = _level(levels, num)
        levels.free = level.head
    else:
        num = _pool_carve(levels, LEVEL_BITS, sizeof(Level))
        level = _level(levels, num)
    level.num = num
    level.queue = NULL
    level.head = level.end = level.cap = level.count = 0
    levels.used += 1
    return level


cdef inline void _free_level(Pool* levels, Level* level) noexcept nogil:
    free(level.queue)
    level.queue = NULL
    level.head = levels.free
    levels.free = level.num
    levels.used -= 1


# ---------------------------------------------------------------------- probing

cdef inline size_t _first(int64_t key, size_t mask) noexcept nogil:
    return <size_t><uint64_t>key & mask


cdef inline size_t _next(size_t i, uint64_t* perturb, size_t mask) noexcept nogil:
    """CPython's dict probing: the first slot is the key's low bits (consecutive ids fill
    consecutive slots), later ones mix in its high bits (ids that share low bits spread)."""
    perturb[0] >>= 5
    return (i * 5 + <size_t>perturb[0] + 1) & mask


# ---------------------------------------------------------------------- the used-id set

# A set of int64 keys kept as 64-key blocks: a slot holds a block number (key >> 6) and a
# bit per key of the block. Exchanges hand out consecutive ids, so a million used ids fit
# in some 16K blocks (256 KiB, cache resident) instead of a 16 MiB table touched at
# random; scattered ids cost one 16-byte slot each. Keys are never removed.

cdef struct KeyBlock:
    int64_t block  # EMPTY or key >> 6
    uint64_t bits  # bit key & 63 of each key of the block in the set

cdef struct KeySet:
    KeyBlock* slots
    size_t mask  # size - 1, size a power of two
    size_t blocks  # slots in use
    size_t count  # keys


cdef inline int _set_init(KeySet* s, size_t size) except -1:
    cdef size_t i
    s.slots = <KeyBlock*>lob_malloc(size * sizeof(KeyBlock))
    if s.slots == NULL:
        raise MemoryError()
    for i in range(size):
        s.slots[i].block = EMPTY
        s.slots[i].bits = 0
    s.mask = size - 1
    s.blocks = s.count = 0
    return 0


cdef inline size_t _set_probe(const KeySet* s, int64_t key) noexcept nogil:
    """The slot of ``key``'s block, or the empty slot where it would go. O(1) expected."""
    cdef int64_t block = key >> 6
    cdef uint64_t perturb = <uint64_t>block
    cdef size_t i = _first(block, s.mask)
    while s.slots[i].block != block and s.slots[i].block != EMPTY:
        i = _next(i, &perturb, s.mask)
    return i


cdef inline bint _set_has_at(const KeySet* s, size_t slot, int64_t key) noexcept nogil:
    """Whether ``key``, whose probe gave ``slot``, is in the set."""
    return s.slots[slot].block == key >> 6 and (s.slots[slot].bits >> (key & 63)) & 1


cdef inline bint _set_has(const KeySet* s, int64_t key) noexcept nogil:
    return _set_has_at(s, _set_probe(s, key), key)


cdef inline int _set_add(KeySet* s, int64_t key, size_t slot) except -1:
    """Add ``key``, absent, whose probe gave ``slot``. O(1) amortised: the set doubles
    (quadruples while small) before 2/3 of its slots hold blocks."""
    cdef KeySet bigger
    cdef size_t i, j
    if s.slots[slot].block == EMPTY:
        if (s.blocks + 1) * 3 > (s.mask + 1) * 2:
            _set_init(&bigger, (s.mask + 1) * (4 if s.mask < 65536 else 2))
            for i in range(s.mask + 1):
                if s.slots[i].block != EMPTY:
                    j = _set_probe(&bigger, s.slots[i].block << 6)
                    bigger.slots[j] = s.slots[i]
            bigger.blocks, bigger.count = s.blocks, s.count
            free(s.slots)
            s[0] = bigger
            slot = _set_probe(s, key)
        s.slots[slot].block = key >> 6
        s.blocks += 1
    s.slots[slot].bits |= (<uint64_t>1) << (key & 63)
    s.count += 1
    return 0


# ---------------------------------------------------------------------- the order table

# Every resting order lives in one open-addressing table keyed by its id's key: the slot
# that a lookup finds *is* the order (owner, lots, level, queue position), so a cancel
# reads one random cache line where a separate index and node would cost two, and
# probes compare keys without reading anything else. A level's queue is an array of the
# slots of its orders in time priority, so matching reads it sequentially and can
# prefetch the orders ahead.
#
# Cancels leave a tombstone: the order's slot is freed and its queue entry (Order.pos)
# set to DEAD, and the entry is dropped when matching passes it or when the level
# compacts its queue (see OrderBook._after_death). Marking the entry costs the cancel a
# store to the queue (4 bytes an entry: some 0.5 MiB for a 10^5-order book, against the
# table's 8 MiB), and spares matching and compaction a read of the order table per dead
# entry. A live entry names the slot of an order that stands there (Order.level,
# Order.pos); a rehash repoints them.
#
# A freed slot is marked FREED, not NEVER: a lookup may stop at a NEVER slot (no order
# was ever placed past it in any probe run), but must pass a FREED one. With ids handed
# out in sequence, new keys sweep the table and leave few NEVER slots, so lookups also
# stop after ``max_probe`` probes, the longest run any insert made since the table was
# last rehashed: no order can be further along its run. Freed slots are reused by the
# next insert whose run meets them, so the table rehashes only to grow (it keeps the
# size of the book's peak: 32 bytes a slot, at most half of them live).

cdef enum:
    DEAD = 0xFFFFFFFFu  # a queue entry whose order left the book in place (never a slot)
    MAX_PROBE = 48  # an insert run this long rehashes the table (expected run: < 20)

cdef struct OrderTable:
    Order* slots
    size_t mask  # size - 1, size a power of two
    size_t count  # live orders
    size_t max_probe  # longest probe run of an insert since the last rehash


cdef inline bint _is_order(const Order* order) noexcept nogil:
    return order.key > FREED


cdef inline int _table_init(OrderTable* t, size_t size) except -1:
    t.slots = _table_block(size)
    t.mask = size - 1
    t.count = t.max_probe = 0
    return 0


cdef inline Order* _table_block(size_t size) except NULL:
    """``size`` NEVER slots."""
    cdef Order* slots = <Order*>lob_malloc(size * sizeof(Order))
    cdef size_t i
    if slots == NULL:
        raise MemoryError()
    for i in range(size):
        slots[i].key = NEVER
    return slots


cdef inline Py_ssize_t _table_find(const OrderTable* t, int64_t key) noexcept nogil:
    """The slot of live order ``key``, or -1. O(1) expected: one cache line when the
    key's first slot holds it (the usual case)."""
    cdef uint64_t perturb = <uint64_t>key
    cdef size_t i = _first(key, t.mask), run = 0
    cdef int64_t k
    while True:
        k = t.slots[i].key
        if k == key:
            return <Py_ssize_t>i
        if k == NEVER or run == t.max_probe:
            return -1
        i = _next(i, &perturb, t.mask)
        run += 1


cdef inline size_t _table_place(Order* slots, size_t mask, int64_t key, size_t* run) noexcept nogil:
    """The first slot of ``key``'s probe run that holds no order; the run's length."""
    cdef uint64_t perturb = <uint64_t>key
    cdef size_t i = _first(key, mask)
    run[0] = 0
    while _is_order(&slots[i]):
        i = _next(i, &perturb, mask)
        run[0] += 1
    return i


cdef inline Py_ssize_t _table_insert(OrderTable* t, const Pool* levels, int64_t key) except -1:
    """A slot for order ``key``, not live, with its key set and no level yet (level 0, so
    that it claims no queue entry). O(1) amortised: the table doubles before half its
    slots hold orders, and a rehash moves every order (``levels``: to repoint their
    queue entries)."""
    cdef size_t i, run
    if (t.count + 1) * 2 > t.mask + 1:
        _table_rehash(t, levels, (t.mask + 1) * 2)
    i = _table_place(t.slots, t.mask, key, &run)
    if run > t.max_probe:
        if run > MAX_PROBE:  # pathological keys: spread them over a bigger table
            _table_rehash(t, levels, (t.mask + 1) * 2)
            i = _table_place(t.slots, t.mask, key, &run)
        if run > t.max_probe:
            t.max_probe = run
    t.slots[i].key = key
    t.slots[i].level = 0
    t.count += 1
    return <Py_ssize_t>i


cdef inline void _table_delete(OrderTable* t, size_t slot) noexcept nogil:
    t.slots[slot].key = FREED
    t.count -= 1


cdef inline int _table_rehash(OrderTable* t, const Pool* levels, size_t size) except -1:
    """Move every order to a table of ``size`` slots, repointing its queue entry.
    O(old size + orders)."""
    cdef Order* slots = _table_block(size)
    cdef size_t i, j, run, longest = 0
    cdef Order* order
    for i in range(t.mask + 1):
        order = &t.slots[i]
        if not _is_order(order):
            continue
        j = _table_place(slots, size - 1, order.key, &run)
        if run > longest:
            longest = run
        slots[j] = order[0]
        if order.level & LEVEL_MASK:
            _level(levels, order.level & LEVEL_MASK).queue[order.pos] = <uint32_t>j
    free(t.slots)
    t.slots = slots
    t.mask = size - 1
    t.max_probe = longest
    return 0


cdef inline void _table_clear(OrderTable* t) noexcept nogil:
    """Forget every order (the caller has released their references). O(size)."""
    cdef size_t i
    for i in range(t.mask + 1):
        t.slots[i].key = NEVER
    t.count = t.max_probe = 0


cdef inline bint _claims(const OrderTable* t, uint32_t slot, uint32_t level, uint32_t pos) noexcept nogil:
    """Whether ``slot`` holds an order that stands at entry ``pos`` of level number
    ``level``'s queue (``check`` asks it of every live entry)."""
    cdef const Order* order = &t.slots[slot]
    return _is_order(order) and (order.level & LEVEL_MASK) == level and order.pos == pos
