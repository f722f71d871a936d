//! FiBA, the finger B-tree aggregator (Tangwongsan, Hirzel, Schneider, VLDB 2019):
//! out-of-order sliding-window aggregation for any associative operator, with amortized
//! O(log d) insertion at distance `d` from either end, eviction from the oldest end, and O(1)
//! query.
//!
//! # Structure
//!
//! A B-tree keyed by time with values in every node (`MIN_ARITY = 8`, `MAX_ARITY = 16`: a
//! non-root node holds 7..=15 keys; the 2× hysteresis gives amortized O(1) rebalancing).
//! NB: arity 8 rather than 4 halves the structural changes per in-order round (`windows`
//! W4: about 350 instead of 560 instructions per round at d = 0, measured with callgrind). Equal
//! times keep arrival order (a new item goes after existing equal keys). Nodes live in an arena
//! (`Vec`, nodes addressed by `u32` index, keys, values, children and caches inline) with a
//! free list, so nodes are reused: no allocation in steady state.
//!
//! # Aggregates (the finger trick)
//!
//! The *left spine* is the path from the root's first child down to the leftmost leaf, the
//! *right spine* the path to the rightmost leaf. Each node stores one aggregate, depending on
//! its kind:
//!
//! | kind | stored aggregate |
//! |---|---|
//! | inner (on no spine) | its whole subtree |
//! | root | its subtree *without* its first and last child |
//! | left spine | its subtree without its first child, ⊕ its parent's aggregate (unless the parent is the root) |
//! | leftmost leaf | suffix aggregates `vals[j..] ⊕ parent's aggregate` for every `j` (kept in the tree, not the node) |
//! | right spine | its parent's aggregate (unless the parent is the root) ⊕ its subtree without its last child |
//!
//! so `query = leftmost leaf ⊕ root ⊕ rightmost leaf` (two combines), and a change at the
//! ends touches O(1) nodes amortized instead of a root-to-leaf path. An insertion at distance
//! `d` climbs the nearer spine only as far as the key requires (O(log d) levels), repairs the
//! inner nodes on its way back up, and then the spine below the meeting point. Spine nodes
//! also keep their own part (`local`, the aggregate without the parent's), so the spine below
//! a changed node is refreshed with one combine per level.
//!
//! Fast paths cover the common cases without the general repair: appending to the rightmost
//! leaf (two combines: aggregate and own part), splitting the rightmost leaf under a parent
//! with room (the parent's aggregate grows on the right by `old leaf ⊕ separator`), evicting
//! from the leftmost leaf (its suffix aggregates make that an index increment: no combine, no
//! shift, until it underflows), merging or borrowing at the leftmost leaf when neither the
//! spines nor the root change, and splitting an inner (non-spine) node, which changes no
//! node's kind. Everything else (cascades onto a spine, root changes) goes through one general
//! repair that rebuilds the spine arrays, recomputes the touched nodes bottom-up and then
//! walks each spine top-down, recomputing only touched or new spine nodes and refreshing the
//! rest below them with one combine each. Underfull nodes merge with their sibling whenever
//! the result fits (and borrow otherwise), which leaves parents room to lose keys.
//!
//! Three caches keep the per-level work small (each checked by [`Fiba::check_invariants`]):
//! a node keeps a copy of each inner child's aggregate (`cagg`), so folding a node reads no
//! other node; inner and right-spine nodes keep prefix aggregates (`pre`), so a change at
//! position `j` refolds only positions `j..` (an insertion `d` items from the right end touches
//! O(log d) nodes, and in each mostly the part right of the change); and the leaf of the last
//! out-of-order insertion is remembered with its descent path until the next structural
//! change, so a run of insertions at a similar distance skips the search.
//!
//! Bulk eviction ([`Fiba::evict_upto`]) is a sequence of single evictions from the left
//! finger, each amortized O(1): O(k) for k items (the bulk-evict variant of the VLDB 2023
//! paper, O(log n) for any k by cutting whole subtrees, is not implemented).
//!
//! [`Fiba::check_invariants`] verifies arity, key order, parent links, uniform leaf depth,
//! the spine arrays and every stored aggregate against a recomputation from the raw values.

use crate::monoid::Monoid;

const MIN_ARITY: usize = 8;
const MAX_ARITY: usize = 2 * MIN_ARITY;
const MIN_KEYS: usize = MIN_ARITY - 1;
const MAX_KEYS: usize = MAX_ARITY - 1;
const NIL: u32 = u32::MAX;

/// Key capacity of a node: one more than the maximum, for the transient overflow before a
/// split.
const CAP: usize = MAX_KEYS + 1;

/// A node with inline arrays (one contiguous arena entry, so a cold node costs few cache
/// misses).
#[derive(Debug, Clone)]
struct Node<A> {
    /// Number of keys (and values); a non-leaf has `n + 1` children.
    n: usize,
    keys: [i64; CAP],
    vals: [A; CAP],
    children: [u32; CAP + 1],
    /// `cagg[j]` is child `j`'s aggregate whenever that child is an inner node (the only
    /// children a fold reads), so folding a node reads no other node.
    cagg: [A; CAP + 1],
    /// For inner and right-spine nodes: `pre[j]` (`j` in `1..=n`) is the aggregate of the
    /// first `j` children and values in order (values only for a leaf). An inner node's
    /// aggregate is `pre[n] ⊕ cagg[n]` (`pre[n]` for a leaf), a right-spine node's own part
    /// is `pre[n]`, and a change at position `j` refolds only from `j` on.
    pre: [A; CAP + 1],
    parent: u32,
    /// 0 for leaves.
    height: u32,
    agg: A,
    /// For spine nodes: the node's own part of `agg` (without the parent's aggregate), so that
    /// a change higher up the spine refreshes this node with one combine.
    local: A,
    live: bool,
}

/// Inserts `v` at `pos` into the first `len` entries of `a` (which has room for one more).
///
/// NB: a loop of swaps over at most 16 entries beats `rotate_right`'s general algorithm
/// (`windows` W4, d = 1K).
#[inline]
fn arr_insert<T>(a: &mut [T], len: usize, pos: usize, v: T) {
    a[len] = v;
    for j in (pos..len).rev() {
        a.swap(j, j + 1);
    }
}

/// Removes and returns entry `pos` of the first `len` entries of `a`.
#[inline]
fn arr_remove<T: Clone>(a: &mut [T], len: usize, pos: usize) -> T {
    let v = a[pos].clone();
    for j in pos + 1..len {
        a.swap(j - 1, j);
    }
    v
}

/// The number of `keys[..n]` that are `<= t` (the position of `t` after equal keys, as the
/// keys are sorted).
///
/// NB: a binary search; a branch-free count over the array executed more instructions
/// (callgrind, `windows` W4 d = 1K: 1194 against 1032 per round) and was no faster.
#[inline]
fn rank(keys: &[i64; CAP], n: usize, t: i64) -> usize {
    keys[..n].partition_point(|&k| k <= t)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Inner,
    Root,
    Left,
    Right,
}

/// The finger B-tree aggregator (see the [module docs](self)).
///
/// # Examples
///
/// ```
/// use lute_window::{Fiba, Lift, ops::Mat2};
/// let mut f = Fiba::new(Mat2);
/// for t in [5, 1, 3, 2, 4] {
///     f.insert(t, Mat2.lift(t as u64));
/// }
/// assert_eq!(f.evict_upto(3), 2); // times 1 and 2
/// assert_eq!(f.len(), 3);
/// assert_eq!(f.oldest(), Some(3));
/// ```
#[derive(Debug, Clone)]
pub struct Fiba<M: Monoid> {
    op: M,
    nodes: Vec<Node<M::Agg>>,
    free: Vec<u32>,
    root: u32,
    /// `left[h]`: the left-spine node at height `h` (below the root).
    left: Vec<u32>,
    /// `right[h]`: the right-spine node at height `h` (below the root).
    right: Vec<u32>,
    len: usize,
    /// Scratch list of nodes touched by a structural change (reused).
    touched: Vec<u32>,
    /// Suffix aggregates of the leftmost leaf (when the root is not a leaf): `lsfx[j]` is
    /// `vals[j] ⊕ … ⊕ vals[n − 1]` of that leaf, ⊕ its parent's aggregate unless the parent
    /// is the root. Valid for `j` in `lo..n`.
    lsfx: Vec<M::Agg>,
    /// `path[h]`: the index in its parent of the node at height `h` on the last descent of
    /// [`Fiba::find_leaf`] (valid below the node the descent started from).
    path: [u8; 64],
    /// The leaf of the last out-of-order insertion (`NIL` after any structural change): an
    /// insertion strictly inside its key range goes to it again, with the same descent path.
    hint: u32,
    /// Height of the node the last descent of [`Fiba::find_leaf`] started from when that node
    /// was a spine node (every node below it on the descent is then inner), else 0.
    inner_below: usize,
    /// Entries `0..lo` of the leftmost leaf are evicted but not yet shifted out (0 when the
    /// root is a leaf). An eviction just advances `lo`: no combine, no shift.
    lo: usize,
}

impl<M: Monoid> Fiba<M> {
    /// An empty tree.
    pub fn new(op: M) -> Self {
        let mut f = Self {
            op,
            nodes: Vec::new(),
            free: Vec::new(),
            root: NIL,
            left: Vec::new(),
            right: Vec::new(),
            len: 0,
            touched: Vec::with_capacity(64),
            lsfx: Vec::new(),
            path: [0; 64],
            inner_below: 0,
            hint: NIL,
            lo: 0,
        };
        let id = f.op.identity();
        f.lsfx = vec![id; CAP];
        f.root = f.alloc(0);
        f
    }

    /// The operator.
    pub fn op(&self) -> &M {
        &self.op
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tree is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Time of the oldest item.
    pub fn oldest(&self) -> Option<i64> {
        (self.len > 0).then(|| self.nodes[self.left_leaf() as usize].keys[self.lo])
    }

    /// Time of the newest item.
    pub fn newest(&self) -> Option<i64> {
        (self.len > 0).then(|| {
            let n = &self.nodes[self.right_leaf() as usize];
            n.keys[n.n - 1]
        })
    }

    /// Bytes held by nodes (keys, values, child links and aggregates), for reports.
    pub fn storage_bytes(&self) -> usize {
        self.nodes.len() * size_of::<Node<M::Agg>>()
    }

    fn alloc(&mut self, height: u32) -> u32 {
        self.hint = NIL;
        if let Some(i) = self.free.pop() {
            let n = &mut self.nodes[i as usize];
            n.n = 0;
            n.parent = NIL;
            n.height = height;
            n.live = true;
            i
        } else {
            let i = u32::try_from(self.nodes.len()).expect("FiBA arena full");
            let id = self.op.identity();
            self.nodes.push(Node {
                n: 0,
                keys: [0; CAP],
                vals: std::array::from_fn(|_| id.clone()),
                children: [NIL; CAP + 1],
                cagg: std::array::from_fn(|_| id.clone()),
                pre: std::array::from_fn(|_| id.clone()),
                parent: NIL,
                height,
                agg: id.clone(),
                local: id,
                live: true,
            });
            i
        }
    }

    fn release(&mut self, i: u32) {
        self.hint = NIL;
        self.nodes[i as usize].live = false;
        self.free.push(i);
    }

    #[inline]
    fn node(&self, i: u32) -> &Node<M::Agg> {
        &self.nodes[i as usize]
    }

    #[inline]
    fn node_mut(&mut self, i: u32) -> &mut Node<M::Agg> {
        &mut self.nodes[i as usize]
    }

    fn pair_mut(&mut self, a: u32, b: u32) -> (&mut Node<M::Agg>, &mut Node<M::Agg>) {
        let (a, b) = (a as usize, b as usize);
        debug_assert_ne!(a, b);
        if a < b {
            let (x, y) = self.nodes.split_at_mut(b);
            (&mut x[a], &mut y[0])
        } else {
            let (x, y) = self.nodes.split_at_mut(a);
            (&mut y[0], &mut x[b])
        }
    }

    #[inline]
    fn left_leaf(&self) -> u32 {
        if self.left.is_empty() {
            self.root
        } else {
            self.left[0]
        }
    }

    #[inline]
    fn right_leaf(&self) -> u32 {
        if self.right.is_empty() {
            self.root
        } else {
            self.right[0]
        }
    }

    #[inline]
    fn kind(&self, i: u32) -> Kind {
        if i == self.root {
            return Kind::Root;
        }
        let h = self.node(i).height as usize;
        if self.left[h] == i {
            Kind::Left
        } else if self.right[h] == i {
            Kind::Right
        } else {
            Kind::Inner
        }
    }

    fn rebuild_spines(&mut self) {
        let h = self.node(self.root).height as usize;
        self.left.clear();
        self.right.clear();
        self.left.resize(h, NIL);
        self.right.resize(h, NIL);
        let (mut l, mut r) = (self.root, self.root);
        for level in (0..h).rev() {
            l = self.node(l).children[0];
            let rn = self.node(r);
            r = rn.children[rn.n];
            self.left[level] = l;
            self.right[level] = r;
        }
    }

    /// The aggregate of node `n`'s values interleaved with its children's aggregates, with or
    /// without the first and the last child (`k − 1` to `2k` combines for `k` keys).
    #[inline]
    fn fold(&self, n: &Node<M::Agg>, first: bool, last: bool) -> M::Agg {
        let op = &self.op;
        let k = n.n;
        if k == 0 {
            return op.identity();
        }
        if n.height == 0 {
            let mut acc = n.vals[0].clone();
            for v in &n.vals[1..k] {
                op.combine_assign(&mut acc, v);
            }
            return acc;
        }
        // NB: child aggregates cached in the node: no pointer chase, no bounds check per child,
        // no cache miss on cold children (`windows` W4).
        let mut acc = if first {
            let mut a = n.cagg[0].clone();
            op.combine_assign(&mut a, &n.vals[0]);
            a
        } else {
            n.vals[0].clone()
        };
        for (v, c) in n.vals[1..k].iter().zip(&n.cagg[1..k]) {
            op.combine_assign(&mut acc, c);
            op.combine_assign(&mut acc, v);
        }
        if last {
            op.combine_assign(&mut acc, &n.cagg[k]);
        }
        acc
    }

    /// Sets inner node `i`'s aggregate and its copy in the parent's `cagg`, where `i` is
    /// child `j`.
    #[inline]
    fn set_inner_agg_at(&mut self, i: u32, j: usize, a: M::Agg) {
        let p = self.nodes[i as usize].parent;
        debug_assert_eq!(self.nodes[p as usize].children[j], i);
        self.nodes[p as usize].cagg[j] = a.clone();
        self.nodes[i as usize].agg = a;
    }

    /// Recomputes an inner (non-spine, non-root) node's aggregate: its whole subtree.
    #[inline]
    fn recompute_inner(&mut self, i: u32) {
        let p = self.nodes[i as usize].parent;
        let pn = &self.nodes[p as usize];
        let j = pn.children[..=pn.n]
            .iter()
            .position(|&c| c == i)
            .expect("child of parent");
        self.refold_inner(i, j, 0);
    }

    /// Rebuilds the suffix aggregates of the leftmost leaf (see [`Fiba::lsfx`]) from its
    /// values `lo..n` and its parent's aggregate.
    fn build_lsfx(&mut self) {
        let l = self.left[0];
        let n = &self.nodes[l as usize];
        let p = n.parent;
        let k = n.n;
        let op = &self.op;
        let mut acc = if p == self.root {
            n.vals[k - 1].clone()
        } else {
            op.combine(&n.vals[k - 1], &self.nodes[p as usize].agg)
        };
        for j in (self.lo..k - 1).rev() {
            self.lsfx[j + 1] = acc.clone();
            op.prepend_assign(&n.vals[j], &mut acc);
        }
        self.lsfx[self.lo] = acc;
    }

    /// Shifts the evicted entries `0..lo` out of the leftmost leaf (before anything but an
    /// eviction touches it).
    fn settle_left(&mut self) {
        let lo = self.lo;
        if lo == 0 {
            return;
        }
        let l = self.left[0];
        let n = &mut self.nodes[l as usize];
        let k = n.n;
        // NB: plain forward copies (the evicted entries need not survive) rather than
        // rotations (`windows` W4, d = 0).
        n.keys.copy_within(lo..k, 0);
        for j in lo..k {
            n.vals[j - lo] = n.vals[j].clone();
            self.lsfx[j - lo] = self.lsfx[j].clone();
        }
        n.n = k - lo;
        self.lo = 0;
    }

    /// Refolds the prefix aggregates (`pre`) of node `i` from position `from` on (entries up
    /// to `from` are valid) and returns `pre[n]`: `k − from` to `2(k − from)` combines.
    #[inline]
    fn prefix(&mut self, i: u32, from: usize) -> M::Agg {
        let op = &self.op;
        let n = &mut self.nodes[i as usize];
        let (leaf, k) = (n.height == 0, n.n);
        let (mut acc, start) = if from == 0 {
            let a = if leaf {
                n.vals[0].clone()
            } else {
                op.combine(&n.cagg[0], &n.vals[0])
            };
            n.pre[1] = a.clone();
            (a, 1)
        } else {
            (n.pre[from].clone(), from)
        };
        for j in start..k {
            if !leaf {
                op.combine_assign(&mut acc, &n.cagg[j]);
            }
            op.combine_assign(&mut acc, &n.vals[j]);
            n.pre[j + 1] = acc.clone();
        }
        acc
    }

    /// Refolds inner node `i` (child `j` of its parent) from position `from` on and sets its
    /// aggregate (and the parent's copy).
    #[inline]
    fn refold_inner(&mut self, i: u32, j: usize, from: usize) {
        let mut a = self.prefix(i, from);
        let n = &self.nodes[i as usize];
        if n.height > 0 {
            self.op.combine_assign(&mut a, &n.cagg[n.n]);
        }
        self.set_inner_agg_at(i, j, a);
    }

    /// Refolds the right-spine node `i` from position `from` on and sets its own part.
    fn right_prefix(&mut self, i: u32, from: usize) {
        let a = self.prefix(i, from);
        self.nodes[i as usize].local = a;
    }

    /// Recomputes node `i`'s stored aggregate from its values, its children's aggregates
    /// and (on a spine) its parent's aggregate.
    fn recompute(&mut self, i: u32) {
        let kind = self.kind(i);
        let n = &self.nodes[i as usize];
        match kind {
            Kind::Inner => self.recompute_inner(i),
            Kind::Root => self.nodes[i as usize].agg = self.fold(n, false, false),
            Kind::Left if n.height == 0 => self.build_lsfx(),
            Kind::Right => {
                self.right_prefix(i, 0);
                self.refresh(i, kind);
            }
            Kind::Left => {
                let local = self.fold(n, kind == Kind::Right, kind == Kind::Left);
                self.nodes[i as usize].local = local;
                self.refresh(i, kind);
            }
        }
    }

    /// Recomputes a spine node's aggregate from its (valid) `local` part and its parent's
    /// aggregate: one combine.
    #[inline]
    fn refresh(&mut self, i: u32, kind: Kind) {
        let p = self.node(i).parent;
        let n = self.node(i);
        if kind == Kind::Left && n.height == 0 {
            self.build_lsfx();
            return;
        }
        let agg = if p == self.root {
            n.local.clone()
        } else if kind == Kind::Left {
            self.op.combine(&n.local, &self.node(p).agg)
        } else {
            self.op.combine(&self.node(p).agg, &n.local)
        };
        self.node_mut(i).agg = agg;
    }

    /// Recomputes the spine node of `kind` at height `h`, then the spine below it: fully
    /// when `full` (their own parts changed too), else by a one-combine refresh each.
    fn spine_down(&mut self, kind: Kind, h: usize, full: bool) {
        for level in (0..=h).rev() {
            let i = if kind == Kind::Left {
                self.left[level]
            } else {
                self.right[level]
            };
            if full || level == h {
                self.recompute(i);
            } else {
                self.refresh(i, kind);
            }
        }
    }

    /// Repairs aggregates after the contents of node `i` changed (no structural change):
    /// inner ancestors bottom-up, then the root or the spine below the meeting point.
    ///
    /// The inner nodes on the way must lie on the last descent of [`Fiba::find_leaf`] (their
    /// index in the parent is taken from [`Fiba::path`]).
    ///
    /// `from`: the first changed position in node `i` (a right-spine node refolds its prefix
    /// aggregates from there on).
    fn fix(&mut self, mut i: u32, mut from: usize) {
        loop {
            match self.kind(i) {
                Kind::Inner => {
                    // NB: prefix aggregates: only the part right of the change is refolded.
                    let j = self.path[self.node(i).height as usize] as usize;
                    self.refold_inner(i, j, from);
                    from = j;
                    i = self.node(i).parent;
                }
                Kind::Root => {
                    let a = self.fold(&self.nodes[i as usize], false, false);
                    self.nodes[i as usize].agg = a;
                    return;
                }
                Kind::Right => {
                    // NB: only the part right of the change is refolded (`windows` W4, d = 1K).
                    let h = self.node(i).height as usize;
                    self.right_prefix(i, from);
                    self.refresh(i, Kind::Right);
                    for level in (0..h).rev() {
                        self.refresh(self.right[level], Kind::Right);
                    }
                    return;
                }
                Kind::Left => {
                    let h = self.node(i).height as usize;
                    self.spine_down(Kind::Left, h, false);
                    return;
                }
            }
        }
    }

    /// Repairs aggregates after a structural change touching the nodes in `self.touched`:
    /// touched inner nodes bottom-up, their inner ancestors, the root, then each spine top-down,
    /// recomputing a spine node only when it was touched, reached from below, or is new on
    /// the spine, and otherwise refreshing it (one combine) below a recomputed one.
    fn repair_touched(&mut self) {
        const MAXH: usize = 64;
        let old_h = self.left.len();
        let mut old_l = [NIL; MAXH];
        let mut old_r = [NIL; MAXH];
        old_l[..old_h].copy_from_slice(&self.left);
        old_r[..old_h].copy_from_slice(&self.right);
        self.rebuild_spines();
        let mut touched = std::mem::take(&mut self.touched);
        touched.retain(|&i| self.nodes[i as usize].live);
        touched.sort_unstable_by_key(|&i| self.nodes[i as usize].height);
        touched.dedup();
        // 1. Inner nodes bottom-up.
        for &i in &touched {
            if self.kind(i) == Kind::Inner {
                self.recompute_inner(i);
            }
        }
        // 2. Inner ancestors of the topmost touched node, up to a spine node or the root.
        let mut root_dirty = touched.contains(&self.root);
        let mut reached = NIL;
        if let Some(&top) = touched.last() {
            let mut a = top;
            while self.kind(a) == Kind::Inner {
                self.recompute_inner(a);
                a = self.node(a).parent;
            }
            if a == self.root {
                root_dirty = true;
            } else {
                reached = a;
            }
        }
        // 3. The root, then each spine top-down.
        if root_dirty {
            let a = self.fold(&self.nodes[self.root as usize], false, false);
            self.nodes[self.root as usize].agg = a;
        }
        for kind in [Kind::Left, Kind::Right] {
            let old = if kind == Kind::Left { &old_l } else { &old_r };
            // A new root (the height changed) is a new parent for the top spine nodes.
            let mut below = self.left.len() != old_h;
            for level in (0..self.left.len()).rev() {
                let i = if kind == Kind::Left {
                    self.left[level]
                } else {
                    self.right[level]
                };
                if level >= old_h || old[level] != i || i == reached || touched.contains(&i) {
                    self.recompute(i);
                    below = true;
                } else if below {
                    self.refresh(i, kind);
                }
            }
        }
        touched.clear();
        self.touched = touched;
    }

    /// The leaf where time `t` goes, searched from the nearer finger: climb the spine only
    /// while `t` lies outside the current subtree, then descend.
    fn find_leaf(&mut self, t: i64) -> u32 {
        let mut n;
        let rl = self.right_leaf();
        self.inner_below = 0;
        let rln = self.node(rl);
        if rln.n > 0 && t >= rln.keys[0] {
            // NB: in-order and nearly in-order times land in the rightmost leaf: no climb,
            // no look at the left finger (`windows` W4, d = 0).
            return rl;
        }
        let ll = self.left_leaf();
        let lln = self.node(ll);
        let left_max = if lln.n == 0 {
            i64::MIN
        } else {
            lln.keys[lln.n - 1]
        };
        if t < left_max {
            // Left finger: a left-spine node's subtree holds keys up to its parent's first
            // key (equal keys go right).
            n = ll;
            while n != self.root {
                let p = self.node(n).parent;
                if t < self.node(p).keys[0] {
                    break;
                }
                n = p;
            }
        } else {
            n = self.right_leaf();
            while n != self.root {
                let p = self.node(n).parent;
                let pn = self.node(p);
                if t >= pn.keys[pn.n - 1] {
                    break;
                }
                n = p;
            }
        }
        if n != self.root {
            // The climb stopped at the lowest spine node whose subtree holds `t`, so the
            // descent from it never follows that spine again: everything below is inner.
            self.inner_below = self.nodes[n as usize].height as usize;
        }
        loop {
            let node = &self.nodes[n as usize];
            if node.height == 0 {
                return n;
            }
            let i = rank(&node.keys, node.n, t);
            self.path[node.height as usize - 1] = i as u8;
            n = node.children[i];
        }
    }

    /// Inserts the partial `v` at time `t` (any time: out-of-order is the point). Items with
    /// equal times keep arrival order. Amortized O(log d) for an insertion `d` items from
    /// the nearer end.
    pub fn insert(&mut self, t: i64, v: M::Agg) {
        self.len += 1;
        let r = self.right_leaf();
        let is_root = r == self.root;
        let op = &self.op;
        let n = &mut self.nodes[r as usize];
        let k = n.n;
        if k == 0 || t >= n.keys[k - 1] {
            // NB: in order (`windows` W4, d = 0): append to the rightmost leaf, whose
            // aggregate (and own part) just grows on the right: no search, no repair.
            if k < MAX_KEYS {
                op.combine_assign(&mut n.agg, &v);
                if !is_root {
                    op.combine_assign(&mut n.local, &v);
                    n.pre[k + 1] = n.local.clone();
                }
                n.keys[k] = t;
                n.vals[k] = v;
                n.n = k + 1;
            } else {
                n.keys[k] = t;
                n.vals[k] = v;
                n.n = k + 1;
                if !self.split_right_leaf(r) {
                    self.split_cascade(r);
                }
            }
            return;
        }
        // NB: consecutive out-of-order insertions at a similar distance land in the same leaf:
        // reuse the last descent while `t` lies strictly inside that leaf's keys (then no
        // separator can send it elsewhere) and no structural change happened since
        // (`windows` W4, d = 1K: the search was the largest cost).
        let h = self.hint;
        let leaf = if h != NIL && self.left.first() != Some(&h) && {
            let n = &self.nodes[h as usize];
            n.n >= 2 && n.keys[0] <= t && t < n.keys[n.n - 1]
        } {
            h
        } else {
            let l = self.find_leaf(t);
            self.hint = l;
            l
        };
        if !self.left.is_empty() && leaf == self.left[0] {
            self.settle_left();
        }
        let n = &mut self.nodes[leaf as usize];
        let k = n.n;
        let pos = rank(&n.keys, k, t);
        arr_insert(&mut n.keys, k, pos, t);
        arr_insert(&mut n.vals, k, pos, v);
        n.n = k + 1;
        if k < MAX_KEYS {
            // NB: the inner nodes below the descent's start need no kind test each
            // (`windows` W4, d = 1K).
            let (mut i, mut from) = (leaf, pos);
            for h in 0..self.inner_below {
                let j = self.path[h] as usize;
                self.refold_inner(i, j, from);
                from = j;
                i = self.nodes[i as usize].parent;
            }
            self.fix(i, from);
        } else if self.inner_below > 0 || self.kind(leaf) == Kind::Inner {
            self.split_inner(leaf);
        } else {
            self.split_cascade(leaf);
        }
    }

    /// Splits the overflowing inner (non-spine, non-root) node `x`, cascading while the
    /// parent overflows and is itself inner: both halves stay inner and the parent keeps its
    /// kind, so only the two halves and the path above need recomputing (no general repair).
    fn split_inner(&mut self, mut x: u32) {
        loop {
            let h = self.node(x).height;
            let y = self.alloc(h);
            let (mid_k, mid_v) = self.split_node(x, y);
            let p = self.node(x).parent;
            self.node_mut(y).parent = p;
            let i = self.path[h as usize] as usize;
            let pn = self.node_mut(p);
            let k = pn.n;
            debug_assert_eq!(pn.children[i], x);
            arr_insert(&mut pn.keys, k, i, mid_k);
            arr_insert(&mut pn.vals, k, i, mid_v);
            arr_insert(&mut pn.children, k + 1, i + 1, y);
            let c = pn.cagg[i].clone();
            arr_insert(&mut pn.cagg, k + 1, i + 1, c);
            pn.n = k + 1;
            self.refold_inner(x, i, 0);
            self.refold_inner(y, i + 1, 0);
            if k < MAX_KEYS {
                self.fix(p, i);
                return;
            }
            if self.kind(p) != Kind::Inner {
                self.split_cascade(p);
                return;
            }
            x = p;
        }
    }

    /// Moves the upper keys (and children) of the overflowing node `x` into the fresh node
    /// `y` (same height) and returns the separator; `x` keeps `MIN_KEYS + 1` keys.
    fn split_node(&mut self, x: u32, y: u32) -> (i64, M::Agg) {
        let h = self.node(x).height;
        let (mid_k, mid_v);
        {
            let (xn, yn) = self.pair_mut(x, y);
            let total = xn.n;
            let cut = MIN_KEYS + 2;
            for j in cut..total {
                yn.keys[j - cut] = xn.keys[j];
                yn.vals[j - cut] = xn.vals[j].clone();
            }
            yn.n = total - cut;
            if h > 0 {
                for j in cut..=total {
                    yn.children[j - cut] = xn.children[j];
                    yn.cagg[j - cut] = xn.cagg[j].clone();
                }
            }
            mid_k = xn.keys[cut - 1];
            mid_v = xn.vals[cut - 1].clone();
            xn.n = cut - 1;
        }
        if h > 0 {
            for j in 0..=self.node(y).n {
                let c = self.node(y).children[j];
                self.node_mut(c).parent = y;
            }
        }
        (mid_k, mid_v)
    }

    /// Fast path of an in-order insertion that overflows the rightmost leaf `x` while its
    /// parent has room: `x` becomes an inner node and a new rightmost leaf `y` takes its upper
    /// keys. The parent's aggregate (right spine or root) only grows on the right by
    /// `x ⊕ separator`, so no general repair is needed. Returns `false` (doing nothing) when
    /// the fast path does not apply.
    fn split_right_leaf(&mut self, x: u32) -> bool {
        if x == self.root {
            return false;
        }
        let p = self.node(x).parent;
        if self.node(p).n >= MAX_KEYS {
            return false;
        }
        let y = self.alloc(0);
        let (mid_k, mid_v);
        {
            let (xn, yn) = self.pair_mut(x, y);
            let total = xn.n;
            let cut = MIN_KEYS + 2;
            for j in cut..total {
                yn.keys[j - cut] = xn.keys[j];
                yn.vals[j - cut] = xn.vals[j].clone();
            }
            yn.n = total - cut;
            mid_k = xn.keys[cut - 1];
            mid_v = xn.vals[cut - 1].clone();
            xn.n = cut - 1;
        }
        self.node_mut(y).parent = p;
        {
            let pn = self.node_mut(p);
            let k = pn.n;
            debug_assert_eq!(pn.children[k], x);
            pn.keys[k] = mid_k;
            pn.vals[k] = mid_v;
            pn.children[k + 1] = y;
            pn.n = k + 1;
        }
        self.right[0] = y;
        // x is now inner: its whole subtree (a leaf: its values).
        self.recompute(x);
        // The parent (right spine or root) excluded x as its last child; now it includes x and
        // the separator and excludes y.
        let xa = self.node(x).agg.clone();
        let p_is_root = p == self.root;
        let op = &self.op;
        let pn = &mut self.nodes[p as usize];
        let k = pn.n;
        op.combine_assign(&mut pn.agg, &xa);
        op.combine_assign(&mut pn.agg, &pn.vals[k - 1]);
        if !p_is_root {
            op.combine_assign(&mut pn.local, &xa);
            op.combine_assign(&mut pn.local, &pn.vals[k - 1]);
            pn.pre[k] = pn.local.clone();
        }
        self.recompute(y);
        true
    }

    fn split_cascade(&mut self, mut x: u32) {
        loop {
            let h = self.node(x).height;
            let y = self.alloc(h);
            let (mid_k, mid_v) = self.split_node(x, y);
            self.touched.push(x);
            self.touched.push(y);
            if x == self.root {
                let r = self.alloc(h + 1);
                let rn = self.node_mut(r);
                rn.keys[0] = mid_k;
                rn.vals[0] = mid_v;
                rn.n = 1;
                rn.children[0] = x;
                rn.children[1] = y;
                self.node_mut(x).parent = r;
                self.node_mut(y).parent = r;
                self.root = r;
                self.touched.push(r);
                break;
            }
            let p = self.node(x).parent;
            self.node_mut(y).parent = p;
            let pn = self.node_mut(p);
            let k = pn.n;
            let i = pn.children[..=k]
                .iter()
                .position(|&c| c == x)
                .expect("child of parent");
            arr_insert(&mut pn.keys, k, i, mid_k);
            arr_insert(&mut pn.vals, k, i, mid_v);
            arr_insert(&mut pn.children, k + 1, i + 1, y);
            let c = pn.cagg[i].clone();
            arr_insert(&mut pn.cagg, k + 1, i + 1, c);
            pn.n = k + 1;
            let fits = k < MAX_KEYS;
            self.touched.push(p);
            if fits {
                break;
            }
            x = p;
        }
        self.repair_touched();
    }

    /// Evicts the oldest item; returns `false` when empty. Amortized O(1).
    pub fn evict(&mut self) -> bool {
        if self.len == 0 {
            return false;
        }
        self.len -= 1;
        if self.left.is_empty() {
            // The root is the only leaf: shift, then recompute it.
            let r = self.root;
            let n = self.node_mut(r);
            let k = n.n;
            // NB: element-wise shifts of at most 7 entries beat `rotate_left`'s memmove call.
            for j in 1..k {
                n.keys[j - 1] = n.keys[j];
                n.vals.swap(j - 1, j);
            }
            n.n = k - 1;
            let a = self.fold(&self.nodes[r as usize], false, false);
            self.nodes[r as usize].agg = a;
            return true;
        }
        // NB: the leftmost leaf keeps suffix aggregates, so evicting from it is an index
        // increment (no combine, no shift) until it underflows (`windows` W4).
        self.lo += 1;
        let l = self.left[0];
        if self.nodes[l as usize].n - self.lo < MIN_KEYS {
            self.settle_left();
            self.rebalance_left(l);
        }
        true
    }

    /// Evicts every item with a time before `t`; returns how many.
    pub fn evict_upto(&mut self, t: i64) -> usize {
        let mut n = 0;
        while self.len > 0 && self.nodes[self.left_leaf() as usize].keys[self.lo] < t {
            self.evict();
            n += 1;
        }
        n
    }

    /// Fixes an underfull left-spine node `x` by borrowing from or merging with its right
    /// sibling, cascading up the left spine.
    fn rebalance_left(&mut self, mut x: u32) {
        // Borrowing moves keys and children between nodes: the hint's path may change.
        self.hint = NIL;
        if self.rebalance_left_leaf(x) {
            return;
        }
        loop {
            if x == self.root || self.node(x).n >= MIN_KEYS {
                break;
            }
            let p = self.node(x).parent;
            let s = self.node(p).children[1];
            let internal = self.node(x).height > 0;
            self.touched.push(x);
            self.touched.push(p);
            if self.node(x).n + 1 + self.node(s).n > MAX_KEYS {
                // Borrow (the merge would not fit, so the sibling has keys to spare):
                // separator down into x, sibling's first key (and child) up/over.
                // NB: merging whenever it fits leaves the parent with room to lose keys, so an
                // in-order stream reaches this general path once per MIN_KEYS leaf merges
                // instead of every other one (`windows` W4).
                let (sk, sv, sc, sca) = {
                    let sn = self.node_mut(s);
                    let k = sn.n;
                    let sk = arr_remove(&mut sn.keys, k, 0);
                    let sv = arr_remove(&mut sn.vals, k, 0);
                    let (sc, sca) = if internal {
                        (
                            arr_remove(&mut sn.children, k + 1, 0),
                            Some(arr_remove(&mut sn.cagg, k + 1, 0)),
                        )
                    } else {
                        (NIL, None)
                    };
                    sn.n = k - 1;
                    (sk, sv, sc, sca)
                };
                let pn = self.node_mut(p);
                let dk = std::mem::replace(&mut pn.keys[0], sk);
                let dv = std::mem::replace(&mut pn.vals[0], sv);
                let xn = self.node_mut(x);
                let k = xn.n;
                xn.keys[k] = dk;
                xn.vals[k] = dv;
                xn.n = k + 1;
                if let Some(a) = sca {
                    xn.children[k + 1] = sc;
                    xn.cagg[k + 1] = a;
                    self.node_mut(sc).parent = x;
                }
                self.touched.push(s);
                break;
            }
            // Merge x, separator, s into x.
            let (dk, dv) = {
                let pn = self.node_mut(p);
                let k = pn.n;
                arr_remove(&mut pn.children, k + 1, 1);
                arr_remove(&mut pn.cagg, k + 1, 1);
                let dk = arr_remove(&mut pn.keys, k, 0);
                let dv = arr_remove(&mut pn.vals, k, 0);
                pn.n = k - 1;
                (dk, dv)
            };
            let first_moved;
            {
                let (xn, sn) = self.pair_mut(x, s);
                let k = xn.n;
                xn.keys[k] = dk;
                xn.vals[k] = dv;
                for j in 0..sn.n {
                    xn.keys[k + 1 + j] = sn.keys[j];
                    xn.vals[k + 1 + j] = sn.vals[j].clone();
                }
                if internal {
                    for j in 0..=sn.n {
                        xn.children[k + 1 + j] = sn.children[j];
                        xn.cagg[k + 1 + j] = sn.cagg[j].clone();
                    }
                }
                first_moved = k + 1;
                xn.n = k + 1 + sn.n;
            }
            if internal {
                for j in first_moved..=self.node(x).n {
                    let c = self.node(x).children[j];
                    self.node_mut(c).parent = x;
                }
            }
            self.release(s);
            if p == self.root && self.node(p).n == 0 {
                // The root lost its last key: x becomes the root.
                self.release(p);
                self.root = x;
                self.node_mut(x).parent = NIL;
                break;
            }
            x = p;
        }
        self.repair_touched();
    }

    /// Fast path for an underfull leftmost leaf `x` when neither the spines nor the root
    /// change: merge with the sibling when the result fits and the parent keeps enough keys,
    /// else borrow from it (evening the two out). Only the sibling, the parent and `x` need
    /// recomputing (in that order). Returns `false` (doing nothing) when the general path is
    /// needed.
    fn rebalance_left_leaf(&mut self, x: u32) -> bool {
        let p = self.node(x).parent;
        let s = self.node(p).children[1];
        let pk = self.node(p).n;
        let (xk, sk) = (self.node(x).n, self.node(s).n);
        let p_can_lose = if p == self.root {
            pk >= 2
        } else {
            pk > MIN_KEYS
        };
        if xk + 1 + sk <= MAX_KEYS && p_can_lose {
            // NB: merging whenever it fits (rather than borrowing first) halves the
            // rebalances of an in-order stream (`windows` W4).
            let (dk, dv) = {
                let pn = self.node_mut(p);
                arr_remove(&mut pn.children, pk + 1, 1);
                arr_remove(&mut pn.cagg, pk + 1, 1);
                let dk = arr_remove(&mut pn.keys, pk, 0);
                let dv = arr_remove(&mut pn.vals, pk, 0);
                pn.n = pk - 1;
                (dk, dv)
            };
            {
                let (xn, sn) = self.pair_mut(x, s);
                xn.keys[xk] = dk;
                xn.vals[xk] = dv;
                for j in 0..sk {
                    xn.keys[xk + 1 + j] = sn.keys[j];
                    xn.vals[xk + 1 + j] = sn.vals[j].clone();
                }
                xn.n = xk + 1 + sk;
            }
            self.release(s);
            self.recompute(p);
            self.recompute(x);
            return true;
        }
        if sk <= MIN_KEYS {
            return false;
        }
        // Borrow m items: the separator and the sibling's first m − 1 come down into x, the
        // sibling's m-th goes up.
        let m = ((sk - xk) / 2).max(1);
        let (sep_k, sep_v) = {
            let pn = self.node_mut(p);
            (pn.keys[0], pn.vals[0].clone())
        };
        let (up_k, up_v) = {
            let (xn, sn) = self.pair_mut(x, s);
            xn.keys[xk] = sep_k;
            xn.vals[xk] = sep_v;
            for j in 0..m - 1 {
                xn.keys[xk + 1 + j] = sn.keys[j];
                xn.vals[xk + 1 + j] = sn.vals[j].clone();
            }
            xn.n = xk + m;
            let up = (sn.keys[m - 1], sn.vals[m - 1].clone());
            sn.keys.copy_within(m..sk, 0);
            sn.vals[..sk].rotate_left(m);
            sn.n = sk - m;
            up
        };
        {
            let pn = self.node_mut(p);
            pn.keys[0] = up_k;
            pn.vals[0] = up_v;
        }
        self.recompute(s);
        self.recompute(p);
        self.recompute(x);
        true
    }

    /// The aggregate of all items in time order: two combines.
    pub fn query(&self) -> M::Agg {
        if self.len == 0 {
            return self.op.identity();
        }
        let root = &self.node(self.root).agg;
        if self.left.is_empty() {
            return root.clone();
        }
        let l = &self.lsfx[self.lo];
        let r = &self.node(self.right[0]).agg;
        let lr = self.op.combine(l, root);
        self.op.combine(&lr, r)
    }

    /// Checks the structural invariants and every stored aggregate (see the module docs).
    ///
    /// # Errors
    /// A description of the first violation.
    pub fn check_invariants(&self) -> Result<(), String>
    where
        M: Clone,
        M::Agg: PartialEq,
    {
        if self.left.is_empty() && self.lo != 0 {
            return Err(format!("lo = {} with a leaf root", self.lo));
        }
        // Check a copy with the evicted entries of the leftmost leaf shifted out.
        let mut base = self.clone();
        base.settle_left();
        let base = &base;
        let mut count = 0;
        let mut prev = i64::MIN;
        let root_h = base.node(base.root).height;
        base.check_node(base.root, root_h, &mut count, &mut prev)?;
        if count != base.len {
            return Err(format!("len {} but {} items", base.len, count));
        }
        let (l, r) = (base.left.clone(), base.right.clone());
        let mut me = base.clone();
        me.rebuild_spines();
        if me.left != l || me.right != r {
            return Err("stale spine arrays".into());
        }
        // Every stored aggregate equals a recomputation from scratch (top-down order works
        // for all kinds once children's full aggregates are known, so recompute inner nodes
        // bottom-up first).
        let mut order: Vec<u32> = (0..base.nodes.len() as u32)
            .filter(|&i| base.nodes[i as usize].live)
            .collect();
        order.sort_by_key(|&i| base.nodes[i as usize].height);
        for &i in &order {
            if me.kind(i) == Kind::Inner {
                me.recompute(i);
            }
        }
        me.recompute(me.root);
        for h in (0..l.len()).rev() {
            me.recompute(me.left[h]);
            me.recompute(me.right[h]);
        }
        for &i in &order {
            if l.first() == Some(&i) {
                // The leftmost leaf: its suffix aggregates stand in for the aggregate.
                let k = base.nodes[i as usize].n;
                if me.lsfx[..k] != base.lsfx[..k] {
                    return Err("stale suffix aggregates at the leftmost leaf".into());
                }
                continue;
            }
            let n = &base.nodes[i as usize];
            if n.height > 0 {
                for j in 0..=n.n {
                    let c = n.children[j];
                    if base.kind(c) == Kind::Inner && n.cagg[j] != base.nodes[c as usize].agg {
                        return Err(format!("stale child aggregate {j} at node {i}"));
                    }
                }
            }
            if me.nodes[i as usize].agg != base.nodes[i as usize].agg {
                return Err(format!("stale aggregate at node {i} ({:?})", base.kind(i)));
            }
            if matches!(base.kind(i), Kind::Inner | Kind::Right) {
                let k = n.n;
                if me.nodes[i as usize].pre[1..=k] != n.pre[1..=k] {
                    return Err(format!("stale prefix aggregates at node {i}"));
                }
            }
            if matches!(base.kind(i), Kind::Left | Kind::Right)
                && me.nodes[i as usize].local != base.nodes[i as usize].local
            {
                return Err(format!("stale local part at node {i} ({:?})", base.kind(i)));
            }
        }
        Ok(())
    }

    fn check_node(&self, i: u32, h: u32, count: &mut usize, prev: &mut i64) -> Result<(), String> {
        let n = self.node(i);
        if !n.live || n.height != h {
            return Err(format!(
                "node {i}: live {} height {} want {h}",
                n.live, n.height
            ));
        }
        let k = n.n;
        if i != self.root && !(MIN_KEYS..=MAX_KEYS).contains(&k) {
            return Err(format!("node {i}: {k} keys out of {MIN_KEYS}..={MAX_KEYS}"));
        }
        if k > MAX_KEYS {
            return Err(format!("root: {k} keys"));
        }
        if h == 0 {
            for &key in &n.keys[..k] {
                if key < *prev {
                    return Err(format!("keys out of order at node {i}"));
                }
                *prev = key;
                *count += 1;
            }
            return Ok(());
        }
        if k == 0 {
            return Err(format!("inner node {i} without keys"));
        }
        for j in 0..=k {
            let c = n.children[j];
            if self.node(c).parent != i {
                return Err(format!("node {c}: bad parent link"));
            }
            self.check_node(c, h - 1, count, prev)?;
            if j < k {
                if n.keys[j] < *prev {
                    return Err(format!("separator out of order at node {i}"));
                }
                *prev = n.keys[j];
                *count += 1;
            }
        }
        Ok(())
    }
}
