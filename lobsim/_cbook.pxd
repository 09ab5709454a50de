# cython: language_level=3
"""The compiled book's C structures and their O(1) operations (used by ``_cbook.pyx``).

Levels and order nodes, in pools of chunks that never move and named by 4-byte numbers;
the used-id set and the live-order index, both open-addressing tables of int64 keys; the
C helpers that build report tuples, chain the garbage collector's hooks and allocate on
huge pages.
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
       held in C nodes are added by chaining these in front of them. */
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

    /* Start loading a node we will touch soon, so that its cache miss overlaps work. */
    #if defined(__GNUC__) || defined(__clang__)
    #define lob_prefetch(p) __builtin_prefetch((const void*)(p), 1)
    #else
    #define lob_prefetch(p) ((void)(p))
    #endif

    /* Big blocks (node chunks, id tables) go on 2 MiB-aligned memory advised to use
       transparent huge pages: a 10^5-order book touches its nodes and tables at random,
       and with 4 KiB pages most of those touches also miss the TLB. */
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
    """
    ctypedef int (*visitproc)(PyObject*, void*) noexcept
    object lob_report3(PyTypeObject*, PyObject*, PyObject*, PyObject*)
    object lob_report4(PyTypeObject*, PyObject*, PyObject*, PyObject*, PyObject*)
    object lob_report7(PyTypeObject*, PyObject*, PyObject*, PyObject*, PyObject*, PyObject*,
                       PyObject*, PyObject*)
    object lob_report8(PyTypeObject*, PyObject*, PyObject*, PyObject*, PyObject*, PyObject*,
                       PyObject*, PyObject*, PyObject*)
    void lob_install_gc(PyTypeObject*, void*, void*)
    void lob_prefetch(void*) noexcept nogil
    void* lob_malloc(size_t) noexcept nogil
    #: a never-used slot of the used-id set
    const int64_t EMPTY "LOB_EMPTY"


# Levels and nodes are named by 4-byte numbers: chunk << CHUNK_BITS | offset into a pool
# of chunks that never move. Number 0 is no level or node; node number 1 is never a node
# either (an empty and a deleted live-index slot).

cdef enum:
    NODE_BITS = 16  # 65536 nodes of 32 bytes: a 2 MiB chunk, one huge page
    LEVEL_BITS = 10
    LEVEL_MASK = (1 << 30) - 1  # the level number in Node.level
    POST_ONLY = 1 << 30  # flags in Node.level
    ID_OBJECT = 1u << 31  # the id is not the plain int ``key``: it is in OrderBook._ids
    BIG_QTY = 0xFFFFFFFFu  # Node.qty: the lots are in OrderBook._big_qty

cdef struct Level:
    uint32_t head  # oldest: next to trade; doubles as the free-list link
    uint32_t tail
    uint32_t count  # orders
    uint32_t num  # its own number
    int64_t price  # ticks
    int64_t qty  # total lots
    PyObject* py_price  # owned: the price as reported, built once per level
    int side  # +1 buy, -1 sell

cdef struct Node:  # 32 bytes: the book's memory per order, and so its cache footprint
    uint32_t prev
    uint32_t next  # doubles as the free-list link
    uint32_t level  # level number (0: the node is free) | POST_ONLY | ID_OBJECT
    uint32_t qty  # remaining lots, > 0, or BIG_QTY
    int64_t key  # the id's key in both id tables
    PyObject* owner  # owned

ctypedef pair[int64_t, Level*] LevelEntry


# ---------------------------------------------------------------------- pools

cdef struct Pool:
    char** chunks
    size_t nchunks
    size_t carved  # items handed out of the last chunk so far
    uint32_t free  # number of the last freed item, 0 for none
    size_t used  # items in use


cdef inline Node* _node(const Pool* pool, uint32_t num) noexcept nogil:
    return <Node*>pool.chunks[num >> NODE_BITS] + (num & ((1 << NODE_BITS) - 1))


cdef inline Level* _level(const Pool* pool, uint32_t num) noexcept nogil:
    return <Level*>pool.chunks[num >> LEVEL_BITS] + (num & ((1 << LEVEL_BITS) - 1))


cdef inline uint32_t _pool_carve(Pool* pool, int bits, size_t size, bint huge) except 0:
    """The number of the next never-used item, in a new chunk if need be. O(1)."""
    cdef uint32_t num
    if pool.nchunks == 0 or pool.carved == (<size_t>1 << bits):
        _pool_grow(pool, bits, size, huge)
    num = <uint32_t>(((pool.nchunks - 1) << bits) | pool.carved)
    pool.carved += 1
    return num


cdef inline int _pool_grow(Pool* pool, int bits, size_t size, bint huge) except -1:
    cdef char** chunks = <char**>realloc(pool.chunks, (pool.nchunks + 1) * sizeof(char*))
    cdef char* chunk
    if chunks == NULL:
        raise MemoryError()
    pool.chunks = chunks
    # huge pages from the second chunk on, so that a small book stays small
    chunk = <char*>(lob_malloc(size << bits) if huge and pool.nchunks else malloc(size << bits))
    if chunk == NULL:
        raise MemoryError()
    pool.chunks[pool.nchunks] = chunk
    pool.nchunks += 1
    pool.carved = 2 if pool.nchunks == 1 else 0  # numbers 0 and 1 are not items
    return 0


cdef inline void _pool_release(Pool* pool) noexcept nogil:
    cdef size_t i
    for i in range(pool.nchunks):
        free(pool.chunks[i])
    free(pool.chunks)


cdef inline Node* _new_node(Pool* nodes, uint32_t* num) except NULL:
    """A node and its number: the most recently freed one, likely still cached. O(1)."""
    cdef Node* node
    if nodes.free:
        num[0] = nodes.free
        node = _node(nodes, num[0])
        nodes.free = node.next
    else:
        num[0] = _pool_carve(nodes, NODE_BITS, sizeof(Node), True)
        node = _node(nodes, num[0])
    nodes.used += 1
    return node


cdef inline void _free_node(Pool* nodes, uint32_t num, Node* node) noexcept nogil:
    node.level = 0
    node.next = nodes.free
    nodes.free = num
    nodes.used -= 1


cdef inline Level* _new_level(Pool* levels) except NULL:
    cdef Level* level
    cdef uint32_t num
    if levels.free:
        num = levels.free
        level = _level(levels, num)
        levels.free = level.head
    else:
        num = _pool_carve(levels, LEVEL_BITS, sizeof(Level), False)
        level = _level(levels, num)
    level.num = num
    levels.used += 1
    return level


cdef inline void _free_level(Pool* levels, Level* level) noexcept nogil:
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


# ---------------------------------------------------------------------- the live index

# A slot holds 0 (never used), 1 (deleted) or a node's number. Only cancel and modify
# delete slots; a maker that fills is only marked free, because finding its slot would
# cost a cache miss per fill on a big book. Its slot stays behind, stale: it names a free
# node, or the node's next life under another key, and lookups pass over it as over a
# collision. Rebuilds drop stale and deleted slots. At 4 bytes a slot, the index of a
# 10^5-order book is 2 MiB: mostly cache resident.

cdef enum:
    SLOT_EMPTY = 0
    SLOT_DELETED = 1

cdef struct LiveIndex:
    uint32_t* slots
    uint32_t* spare  # NULL, or a block of the same size that the next rebuild fills
    size_t mask
    size_t count  # live orders
    size_t dead  # deleted and stale slots


cdef inline int _live_init(LiveIndex* t, size_t size) except -1:
    t.slots = _live_block(size, NULL)
    t.spare = NULL
    t.mask = size - 1
    t.count = t.dead = 0
    return 0


cdef inline uint32_t* _live_block(size_t size, uint32_t* reuse) except NULL:
    """``size`` empty slots, in ``reuse`` if given."""
    cdef uint32_t* slots = reuse if reuse != NULL else <uint32_t*>lob_malloc(size * sizeof(uint32_t))
    if slots == NULL:
        raise MemoryError()
    memset(slots, 0, size * sizeof(uint32_t))
    return slots


cdef inline bint _holds(const Pool* nodes, uint32_t num, int64_t key) noexcept nogil:
    """Whether slot content ``num`` is the live order ``key``."""
    cdef Node* node
    if num <= SLOT_DELETED:
        return False
    node = _node(nodes, num)
    return node.level != 0 and node.key == key


cdef inline size_t _live_slot(const LiveIndex* t, const Pool* nodes, int64_t key) noexcept nogil:
    """The slot of live ``key``, or the empty slot that ends its probe. O(1) expected."""
    cdef uint64_t perturb = <uint64_t>key
    cdef size_t i = _first(key, t.mask)
    while t.slots[i] != SLOT_EMPTY and not _holds(nodes, t.slots[i], key):
        i = _next(i, &perturb, t.mask)
    return i


cdef inline uint32_t _live_find(const LiveIndex* t, const Pool* nodes, int64_t key) noexcept nogil:
    """The number of live ``key``'s node, or 0."""
    return t.slots[_live_slot(t, nodes, key)]  # 0 at the empty slot


cdef inline int _live_insert(LiveIndex* t, const Pool* nodes, uint32_t num, int64_t key) except -1:
    """Index node ``num`` under ``key``, which is not live. O(1) amortised: the index is
    rebuilt, sized for its live orders, before live and dead slots fill 2/3 of it."""
    cdef uint64_t perturb = <uint64_t>key
    cdef size_t i
    if (t.count + t.dead + 1) * 3 > (t.mask + 1) * 2:
        _live_rebuild(t, nodes)
    i = _first(key, t.mask)
    while t.slots[i] > SLOT_DELETED:
        i = _next(i, &perturb, t.mask)
    if t.slots[i] == SLOT_DELETED:
        t.dead -= 1
    t.slots[i] = num
    t.count += 1
    return 0


cdef inline void _live_delete(LiveIndex* t, const Pool* nodes, int64_t key) noexcept nogil:
    """Forget live ``key`` now (cancel, modify: its slot was just probed, so is cached)."""
    t.slots[_live_slot(t, nodes, key)] = SLOT_DELETED
    t.count -= 1
    t.dead += 1


cdef inline void _live_forget(LiveIndex* t) noexcept nogil:
    """Forget a live order whose node the caller frees, leaving its slot stale."""
    t.count -= 1
    t.dead += 1


cdef inline int _live_rebuild(LiveIndex* t, const Pool* nodes) except -1:
    """Rehash the live nodes into a table at most 1/4 full, dropping dead and stale
    slots. A rebuild to the same size (the common case: orders come and go) reuses the
    spare block, because fresh memory costs a page fault and a page clear per page."""
    cdef size_t size = 64, i, j
    cdef uint64_t perturb
    cdef uint32_t* slots
    cdef uint32_t num
    cdef Node* node
    while size < (t.count + 1) * 4:
        size *= 2
    if size != t.mask + 1:
        free(t.spare)
        t.spare = NULL
    slots = _live_block(size, t.spare)
    for i in range(t.mask + 1):
        num = t.slots[i]
        if num <= SLOT_DELETED:
            continue
        node = _node(nodes, num)
        if node.level == 0:
            continue
        perturb = <uint64_t>node.key
        j = _first(node.key, size - 1)
        # a stale slot may name a node that has its own slot too: index it once
        while slots[j] != SLOT_EMPTY and slots[j] != num:
            j = _next(j, &perturb, size - 1)
        slots[j] = num
    if size == t.mask + 1:
        t.spare = t.slots
    else:
        free(t.slots)
    t.slots = slots
    t.mask = size - 1
    t.dead = 0
    return 0
