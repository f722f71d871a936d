//! FiBA, the finger B-tree aggregator (Tangwongsan, Hirzel, Schneider, VLDB 2019):
//! out-of-order sliding-window aggregation for any associative operator, with amortized
//! O(log d) insertion at distance `d` from either end, eviction from the oldest end, and O(1)
//! query.
//!
//! # Structure
//!
//! A B-tree keyed by time with values in every node (`MIN_ARITY = 4`, `MAX_ARITY = 8`: a
//! non-root node holds 3..=7 keys; the 2× hysteresis gives amortized O(1) rebalancing). Equal
//! times keep arrival order (a new item goes after existing equal keys). Nodes live in an arena
//! (`Vec`) with a free list, so nodes and their small vectors are reused: no allocation in
//! steady state.
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
//! | right spine | its parent's aggregate (unless the parent is the root) ⊕ its subtree without its last child |
//!
//! so `query = leftmost leaf ⊕ root ⊕ rightmost leaf` (two combines), and a change at the
//! ends touches O(1) nodes amortized instead of a root-to-leaf path. An insertion at distance
//! `d` climbs the nearer spine only as far as the key requires (O(log d) levels), repairs the
//! inner nodes on its way back up, and then the spine below the meeting point. Spine nodes
//! also keep their own part (`local`, the aggregate without the parent's), so the spine below
//! a changed node is refreshed with one combine per level.
//!
//! Fast paths cover the common in-order cases without the general repair: appending to the
//! rightmost leaf (one combine), splitting the rightmost leaf under a parent with room (the
//! parent's aggregate grows on the right by `old leaf ⊕ separator`), and borrowing or
//! merging at the leftmost leaf when neither the spines nor the root change. Everything else
//! (cascading splits and merges, root changes) goes through one general repair that rebuilds
//! the spine arrays and recomputes the touched nodes in dependency order.
//!
//! Bulk eviction ([`Fiba::evict_upto`]) is a sequence of single evictions from the left
//! finger, each amortized O(1): O(k) for k items (the bulk-evict variant of the VLDB 2023
//! paper, O(log n) for any k by cutting whole subtrees, is not implemented).
//!
//! [`Fiba::check_invariants`] verifies arity, key order, parent links, uniform leaf depth,
//! the spine arrays and every stored aggregate against a recomputation from the raw values.

use crate::monoid::Monoid;

const MIN_ARITY: usize = 4;
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
#[inline]
fn arr_insert<T>(a: &mut [T], len: usize, pos: usize, v: T) {
    a[len] = v;
    a[pos..=len].rotate_right(1);
}

/// Removes and returns entry `pos` of the first `len` entries of `a`.
#[inline]
fn arr_remove<T: Clone>(a: &mut [T], len: usize, pos: usize) -> T {
    let v = a[pos].clone();
    a[pos..len].rotate_left(1);
    v
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
        };
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
        (self.len > 0).then(|| self.nodes[self.left_leaf() as usize].keys[0])
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
    fn is_leaf(&self, i: u32) -> bool {
        self.node(i).height == 0
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

    /// Recomputes node `i`'s stored aggregate from its values, its children's aggregates
    /// and (on a spine) its parent's aggregate.
    fn recompute(&mut self, i: u32) {
        let kind = self.kind(i);
        let op = &self.op;
        let n = self.node(i);
        let k = n.n;
        let leaf = n.height == 0;
        let mut acc = op.identity();
        // Children included: inner 0..=k, root 1..k, left 1..=k, right 0..k.
        let (c_lo, c_hi) = match kind {
            Kind::Inner => (0, k + 1),
            Kind::Root => (1, k),
            Kind::Left => (1, k + 1),
            Kind::Right => (0, k),
        };
        if leaf {
            for v in &n.vals[..k] {
                op.combine_assign(&mut acc, v);
            }
        } else {
            if c_lo == 0 {
                op.combine_assign(&mut acc, &self.node(n.children[0]).agg);
            }
            for j in 0..k {
                op.combine_assign(&mut acc, &n.vals[j]);
                if j + 1 < c_hi {
                    op.combine_assign(&mut acc, &self.node(n.children[j + 1]).agg);
                }
            }
        }
        match kind {
            Kind::Inner | Kind::Root => self.node_mut(i).agg = acc,
            Kind::Left | Kind::Right => {
                self.node_mut(i).local = acc;
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
    fn fix(&mut self, mut i: u32) {
        loop {
            match self.kind(i) {
                Kind::Inner => {
                    self.recompute(i);
                    i = self.node(i).parent;
                }
                Kind::Root => {
                    self.recompute(i);
                    return;
                }
                k => {
                    let h = self.node(i).height as usize;
                    self.spine_down(k, h, false);
                    return;
                }
            }
        }
    }

    /// Repairs aggregates after a structural change touching the nodes in `self.touched`.
    fn repair_touched(&mut self) {
        self.rebuild_spines();
        let mut touched = std::mem::take(&mut self.touched);
        touched.retain(|&i| self.nodes[i as usize].live);
        touched.sort_unstable_by_key(|&i| self.nodes[i as usize].height);
        touched.dedup();
        // 1. Inner nodes bottom-up.
        for &i in &touched {
            if self.kind(i) == Kind::Inner {
                self.recompute(i);
            }
        }
        // 2. Inner ancestors of the topmost touched node, up to a spine node or the root.
        let mut root_dirty = touched.contains(&self.root);
        let (mut hl, mut hr): (Option<usize>, Option<usize>) = (None, None);
        if let Some(&top) = touched.last() {
            let mut a = top;
            while self.kind(a) == Kind::Inner {
                self.recompute(a);
                a = self.node(a).parent;
            }
            match self.kind(a) {
                Kind::Root => root_dirty = true,
                Kind::Left => hl = Some(self.node(a).height as usize),
                Kind::Right => hr = Some(self.node(a).height as usize),
                Kind::Inner => {}
            }
        }
        // 3. The root, then each spine from its highest touched node down. When the root
        //    itself was restructured (split, collapse, new key), its children's relation to
        //    it may have changed, so both spines are recomputed from the top.
        if root_dirty {
            self.recompute(self.root);
        }
        if touched.contains(&self.root) && !self.left.is_empty() {
            let top = self.left.len() - 1;
            hl = Some(top);
            hr = Some(top);
        }
        for &i in &touched {
            let h = self.node(i).height as usize;
            match self.kind(i) {
                Kind::Left => hl = Some(hl.map_or(h, |x| x.max(h))),
                Kind::Right => hr = Some(hr.map_or(h, |x| x.max(h))),
                _ => {}
            }
        }
        if let Some(h) = hl {
            self.spine_down(Kind::Left, h, true);
        }
        if let Some(h) = hr {
            self.spine_down(Kind::Right, h, true);
        }
        touched.clear();
        self.touched = touched;
    }

    /// The leaf where time `t` goes, searched from the nearer finger: climb the spine only
    /// while `t` lies outside the current subtree, then descend.
    fn find_leaf(&self, t: i64) -> u32 {
        let mut n;
        let rl = self.right_leaf();
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
        while !self.is_leaf(n) {
            let node = self.node(n);
            let i = node.keys[..node.n].partition_point(|&k| k <= t);
            n = node.children[i];
        }
        n
    }

    /// Inserts the partial `v` at time `t` (any time: out-of-order is the point). Items with
    /// equal times keep arrival order. Amortized O(log d) for an insertion `d` items from
    /// the nearer end.
    pub fn insert(&mut self, t: i64, v: M::Agg) {
        let leaf = self.find_leaf(t);
        let is_right_leaf = leaf == self.root || self.right.first() == Some(&leaf);
        let n = &mut self.nodes[leaf as usize];
        let k = n.n;
        let pos = n.keys[..k].partition_point(|&x| x <= t);
        if pos == k && k < MAX_KEYS && is_right_leaf {
            // Appending to the rightmost leaf: its aggregate (and its own part) just grows on
            // the right.
            self.op.combine_assign(&mut n.agg, &v);
            if leaf != self.root {
                self.op.combine_assign(&mut n.local, &v);
            }
            n.keys[k] = t;
            n.vals[k] = v;
            n.n = k + 1;
        } else {
            arr_insert(&mut n.keys, k, pos, t);
            arr_insert(&mut n.vals, k, pos, v);
            n.n = k + 1;
            if k < MAX_KEYS {
                self.fix(leaf);
            } else if !(is_right_leaf && pos == k && self.split_right_leaf(leaf)) {
                self.split_cascade(leaf);
            }
        }
        self.len += 1;
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
        }
        self.recompute(y);
        true
    }

    fn split_cascade(&mut self, mut x: u32) {
        loop {
            let h = self.node(x).height;
            let y = self.alloc(h);
            let (mid_k, mid_v);
            {
                let (xn, yn) = self.pair_mut(x, y);
                let total = xn.n;
                let cut = MIN_KEYS + 2; // x keeps MIN_KEYS + 1 keys, y gets the rest
                for j in cut..total {
                    yn.keys[j - cut] = xn.keys[j];
                    yn.vals[j - cut] = xn.vals[j].clone();
                }
                yn.n = total - cut;
                if h > 0 {
                    for j in cut..=total {
                        yn.children[j - cut] = xn.children[j];
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
        let l = self.left_leaf();
        let n = self.node_mut(l);
        let k = n.n;
        // NB: element-wise shifts of at most 7 entries beat `rotate_left`'s memmove call.
        for j in 1..k {
            n.keys[j - 1] = n.keys[j];
            n.vals.swap(j - 1, j);
        }
        n.n = k - 1;
        self.len -= 1;
        if l == self.root || k > MIN_KEYS {
            // The root, or a left-spine leaf: its values ⊕ its parent's aggregate.
            self.recompute(l);
        } else {
            self.rebalance_left(l);
        }
        true
    }

    /// Evicts every item with a time before `t`; returns how many.
    pub fn evict_upto(&mut self, t: i64) -> usize {
        let mut n = 0;
        while self.len > 0 && self.nodes[self.left_leaf() as usize].keys[0] < t {
            self.evict();
            n += 1;
        }
        n
    }

    /// Fixes an underfull left-spine node `x` by borrowing from or merging with its right
    /// sibling, cascading up the left spine.
    fn rebalance_left(&mut self, mut x: u32) {
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
            if self.node(s).n > MIN_KEYS {
                // Borrow: separator down into x, sibling's first key (and child) up/over.
                let (sk, sv, sc) = {
                    let sn = self.node_mut(s);
                    let k = sn.n;
                    let sk = arr_remove(&mut sn.keys, k, 0);
                    let sv = arr_remove(&mut sn.vals, k, 0);
                    let sc = if internal {
                        arr_remove(&mut sn.children, k + 1, 0)
                    } else {
                        NIL
                    };
                    sn.n = k - 1;
                    (sk, sv, sc)
                };
                let pn = self.node_mut(p);
                let dk = std::mem::replace(&mut pn.keys[0], sk);
                let dv = std::mem::replace(&mut pn.vals[0], sv);
                let xn = self.node_mut(x);
                let k = xn.n;
                xn.keys[k] = dk;
                xn.vals[k] = dv;
                xn.n = k + 1;
                if internal {
                    xn.children[k + 1] = sc;
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
    /// change: borrow from the sibling, or merge with it while the parent keeps enough keys.
    /// Only the sibling, the parent and `x` need recomputing (in that order). Returns `false`
    /// (doing nothing) when the general path is needed.
    fn rebalance_left_leaf(&mut self, x: u32) -> bool {
        let p = self.node(x).parent;
        let s = self.node(p).children[1];
        let pn_keys = self.node(p).n;
        if self.node(s).n > MIN_KEYS {
            let (sk, sv) = {
                let sn = self.node_mut(s);
                let k = sn.n;
                let sk = arr_remove(&mut sn.keys, k, 0);
                let sv = arr_remove(&mut sn.vals, k, 0);
                sn.n = k - 1;
                (sk, sv)
            };
            let pn = self.node_mut(p);
            let dk = std::mem::replace(&mut pn.keys[0], sk);
            let dv = std::mem::replace(&mut pn.vals[0], sv);
            let xn = self.node_mut(x);
            let k = xn.n;
            xn.keys[k] = dk;
            xn.vals[k] = dv;
            xn.n = k + 1;
        } else if (p == self.root && pn_keys >= 2) || (p != self.root && pn_keys > MIN_KEYS) {
            let (dk, dv) = {
                let pn = self.node_mut(p);
                let k = pn.n;
                arr_remove(&mut pn.children, k + 1, 1);
                let dk = arr_remove(&mut pn.keys, k, 0);
                let dv = arr_remove(&mut pn.vals, k, 0);
                pn.n = k - 1;
                (dk, dv)
            };
            {
                let (xn, sn) = self.pair_mut(x, s);
                let k = xn.n;
                xn.keys[k] = dk;
                xn.vals[k] = dv;
                for j in 0..sn.n {
                    xn.keys[k + 1 + j] = sn.keys[j];
                    xn.vals[k + 1 + j] = sn.vals[j].clone();
                }
                xn.n = k + 1 + sn.n;
            }
            self.release(s);
            self.recompute(p);
            self.recompute(x);
            return true;
        } else {
            return false;
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
        let l = &self.node(self.left[0]).agg;
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
        let mut count = 0;
        let mut prev = i64::MIN;
        let root_h = self.node(self.root).height;
        self.check_node(self.root, root_h, &mut count, &mut prev)?;
        if count != self.len {
            return Err(format!("len {} but {} items", self.len, count));
        }
        let (l, r) = (self.left.clone(), self.right.clone());
        let mut me = self.clone();
        me.rebuild_spines();
        if me.left != l || me.right != r {
            return Err("stale spine arrays".into());
        }
        // Every stored aggregate equals a recomputation from scratch (top-down order works
        // for all kinds once children's full aggregates are known, so recompute inner nodes
        // bottom-up first).
        let mut order: Vec<u32> = (0..self.nodes.len() as u32)
            .filter(|&i| self.nodes[i as usize].live)
            .collect();
        order.sort_by_key(|&i| self.nodes[i as usize].height);
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
            if me.nodes[i as usize].agg != self.nodes[i as usize].agg {
                return Err(format!("stale aggregate at node {i} ({:?})", self.kind(i)));
            }
            if matches!(self.kind(i), Kind::Left | Kind::Right)
                && me.nodes[i as usize].local != self.nodes[i as usize].local
            {
                return Err(format!("stale local part at node {i} ({:?})", self.kind(i)));
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
