//! A vector integrand's sums over one chunk: each component's lanes, as
//! the scalar path keeps them, and the products of every pair of
//! components, for their covariance.
//!
//! A block of values comes point after point (`values[i * m + j]`), and a
//! step of the lanes is [`LANES`] points, so a step is `LANES · m` values
//! with lane `l`'s component `j` at `l * m + j`. The component sums are kept
//! in that same order, so a step adds to them element by element, a
//! point's `m` values at a time: each element is one component's lane, its
//! values added in sample order with the scalar path's arithmetic (so its
//! bits are the scalar path's), and the vector unit runs across the
//! components, with no transpose of the block (which took ~100
//! instructions a point with 16 components).
//!
//! The pair products are promised no bits but their own (the same on any
//! thread count and instruction set, whatever the blocks): each pair's sum
//! of products is added point after point, in sample order, by fused
//! multiply-adds, wherever it is kept. The sums `Σ d_j · d_((j + o) mod
//! m)` for `o` from 1 to `m / 2` hold every pair `j < k` once (`o = m / 2`
//! twice, for even `m`), `m` products an offset with no waste. Where the
//! registers hold all of them (up to 16 components on AVX-512, 8 on AVX2,
//! see [`most_in_registers`]), the sum pass adds them too, each point's
//! values rotated in registers (see [`add_steps_in_registers`]; past 8
//! components, by halves of 8, see [`halves`]). Beyond, the sum pass
//! writes each point's shifted values twice into a row, so that the
//! values `o` places on, cyclically, are one load away, and a second pass
//! adds the products, [`WIDE`] components at a time, each offset with the
//! one [`APART`] on (see [`add_products`]); with 16 components it read
//! each row four times from the L2 cache, and took twice the time of the
//! pass in registers.

use multiversion::multiversion;
use multiversion::target::target_cfg_f;

use crate::kernel::chunk::{McPart, pair_indices, tree_sum};
use crate::sample::LANES;
use crate::{Accumulator, Error};

/// Components a pass of the products takes at a time: four AVX2 vectors,
/// which with the sums of two offsets stay in AVX2's 16 registers.
const WIDE: usize = 16;

/// How far apart the two offsets of a pass of the products are: one AVX2
/// vector, so the values of the second offset are those of the first,
/// one vector on, and are loaded once for both (offsets one apart were
/// shuffled into place from the loads, twice the instructions).
const APART: usize = 4;

/// One chunk's sums of an `m`-component integrand, `m ≥ 2`.
#[derive(Debug)]
pub(crate) struct ComponentSums {
    m: usize,
    /// Each component's shift: its first finite value of the chunk.
    shifts: Vec<f64>,
    /// Each lane's sums, in the order of a step's values.
    lanes: StepSums,
    /// `m` rounded up to a whole [`WIDE`].
    padded: usize,
    /// Whether the sum pass adds the products in registers.
    in_registers: bool,
    /// A block's shifted values, each point's twice in a row of
    /// [`row_length`] values (the rest zeros); empty `in_registers`.
    rows: Vec<f64>,
    /// Each pair's `Σ d_j d_k`, where [`slot`](Self::slot) says.
    products: Vec<f64>,
}

/// Each lane's sums of its values minus the shift, of their squares, and
/// its count of values skipped as not finite, in the order of a step's
/// values.
#[derive(Debug)]
struct StepSums {
    sum: Vec<f64>,
    squares: Vec<f64>,
    skipped: Vec<u64>,
}

/// Values in a row of [`ComponentSums::rows`] for `padded` (`m` rounded
/// up to a whole [`WIDE`]): the point's values twice from the start, and
/// room for the widest load of the products, `WIDE + APART` values from
/// as far as `padded − WIDE + m / 2`.
fn row_length(padded: usize) -> usize {
    2 * padded + 2 * APART
}

impl ComponentSums {
    /// Sums for `m` components shifted by `shifts`, for blocks of up to
    /// `room` points.
    pub(crate) fn new(shifts: &[f64], room: usize) -> ComponentSums {
        let in_registers = shifts.len() <= most_in_registers();
        ComponentSums::with_products(shifts, room, in_registers)
    }

    /// [`new`](Self::new), with the products added `in_registers` or in
    /// the rows' pass.
    fn with_products(shifts: &[f64], room: usize, in_registers: bool) -> ComponentSums {
        let m = shifts.len();
        let padded = m.next_multiple_of(WIDE);
        let rows = if in_registers {
            0
        } else {
            room * row_length(padded)
        };
        ComponentSums {
            m,
            shifts: shifts.to_vec(),
            lanes: StepSums {
                sum: vec![0.0; LANES * m],
                squares: vec![0.0; LANES * m],
                skipped: vec![0; LANES * m],
            },
            padded,
            in_registers,
            rows: vec![0.0; rows],
            // Room for the sums of `halves` too.
            products: vec![0.0; ((m / 2) * padded).max(HALVES * HALF)],
        }
    }

    /// Values a point takes in a block beside its coordinates: its values,
    /// and its row of shifted values if the registers cannot hold the
    /// products.
    pub(crate) fn values_per_point(m: usize) -> usize {
        if m <= most_in_registers() {
            m
        } else {
            m + row_length(m.next_multiple_of(WIDE))
        }
    }

    /// Adds a block of values (`values[i * m + j]`), in sample order from
    /// a lane-0 boundary: whole steps but, at a chunk's end, the last. With
    /// `skip`, a value that is not finite counts as 0 for its component.
    pub(crate) fn add(&mut self, values: &[f64], skip: bool) {
        let (m, padded) = (self.m, self.padded);
        let whole = values.len() - values.len() % (LANES * m);
        let (steps, rest) = values.split_at(whole);
        let (shifts, lanes, products) = (&self.shifts, &mut self.lanes, &mut self.products);
        if self.in_registers {
            if skip {
                add_steps_in_registers::<true>(steps, shifts, lanes, products, padded);
            } else {
                add_steps_in_registers::<false>(steps, shifts, lanes, products, padded);
            }
        } else {
            let length = row_length(padded);
            let rows = &mut self.rows[..whole / m * length];
            if skip {
                add_steps::<true>(steps, shifts, lanes, rows, length);
            } else {
                add_steps::<false>(steps, shifts, lanes, rows, length);
            }
            add_products(m, padded, rows, products);
        }
        if !rest.is_empty() {
            self.add_partial_step(rest, skip);
        }
    }

    /// Adds a chunk's last, partial step one point at a time, as
    /// `LaneSums::add` adds it (a skipped value is `0 − shift`, where whole
    /// steps add `−shift`: the two differ in the sign of a zero), and each
    /// point's products after the whole steps'.
    fn add_partial_step(&mut self, rest: &[f64], skip: bool) {
        let m = self.m;
        let mut shifted = vec![0.0; m];
        for (lane, values) in rest.chunks_exact(m).enumerate() {
            let lanes = &mut self.lanes;
            for (j, (&value, d)) in values.iter().zip(&mut shifted).enumerate() {
                let at = lane * m + j;
                let value = if skip && !value.is_finite() {
                    lanes.skipped[at] += 1;
                    0.0
                } else {
                    value
                };
                *d = value - self.shifts[j];
                lanes.sum[at] += *d;
                lanes.squares[at] += *d * *d;
            }
            for (j, k) in pair_indices(m) {
                let at = self.slot(j, k);
                self.products[at] = shifted[j].mul_add(shifted[k], self.products[at]);
            }
        }
    }

    /// Whether a sum is not finite: a value was not (or they overflowed).
    pub(crate) fn any_non_finite(&self) -> bool {
        // A fold, not `any`: with no early exit, it vectorises.
        (self.lanes.sum.iter()).fold(false, |any, sum| any | !sum.is_finite())
    }

    /// The chunk's part after `count` samples: each component's
    /// accumulator (its lanes added in the scalar path's tree) and skipped
    /// count, and the co-moments of each pair, `Σ d_j d_k − Σ d_j · (Σ d_k /
    /// n)` as the variance's.
    pub(crate) fn finish(&self, count: u64) -> Result<McPart, Error> {
        let m = self.m;
        let lanes = |sums: &[f64], j: usize| std::array::from_fn(|l| sums[l * m + j]);
        let totals: Vec<f64> = (0..m)
            .map(|j| tree_sum(lanes(&self.lanes.sum, j)))
            .collect();
        let mut part = McPart::empty(m);
        for (j, (&sum, &shift)) in totals.iter().zip(&self.shifts).enumerate() {
            let squares = tree_sum(lanes(&self.lanes.squares, j));
            if !(sum.is_finite() && squares.is_finite()) {
                return Err(Error::Overflow);
            }
            part.values[j] = Accumulator::from_shifted_sums(count, shift, sum, squares);
            part.skipped[j] = (0..LANES).map(|l| self.lanes.skipped[l * m + j]).sum();
        }
        if count > 0 {
            let n = count as f64;
            for (c, (j, k)) in part.comoments.iter_mut().zip(pair_indices(m)) {
                *c = self.product(j, k) - totals[j] * (totals[k] / n);
            }
        }
        Ok(part)
    }

    /// `Σ d_j d_k`, `j < k`.
    fn product(&self, j: usize, k: usize) -> f64 {
        self.products[self.slot(j, k)]
    }

    /// Where `Σ d_j d_k`, `j < k`, is kept: by halves (see
    /// [`halves_slot`]) in registers past [`HALF`] components; otherwise
    /// offset `k − j` from `j`, or, past half the components, offset `m −
    /// (k − j)` from `k`, round the end.
    fn slot(&self, j: usize, k: usize) -> usize {
        if self.in_registers && self.m > HALF {
            return halves_slot(j, k);
        }
        let offset = k - j;
        if 2 * offset <= self.m {
            (offset - 1) * self.padded + j
        } else {
            (self.m - offset - 1) * self.padded + k
        }
    }
}

/// The most components whose pair products the registers hold, for
/// [`add_steps_in_registers`]: the products of `m / 2` offsets of `m`
/// components in at most half the registers, the rest for a point's
/// values, their rotations and the rotations' indices. AVX-512's 32
/// registers of 8 values hold 16 components (16 registers of products, by
/// [`halves`]), AVX2's 16 of 4 hold 8, SSE's 16 of 2 hold 5.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn most_in_registers() -> usize {
    const MOST: usize = most(
        target_cfg_f!(target_feature = "avx512f"),
        target_cfg_f!(target_feature = "avx2"),
    );
    MOST
}

/// [`most_in_registers`] on an instruction set with AVX-512 or AVX2 (or
/// neither).
const fn most(avx512: bool, avx2: bool) -> usize {
    match (avx512, avx2) {
        (true, _) => 16,
        (false, true) => 8,
        (false, false) => 5,
    }
}

/// Adds whole steps of values (`LANES · m` a step, `m = shifts.len()`, at
/// most [`most_in_registers`]) to the lanes' sums as [`add_steps`] does,
/// and each point's pair products to `products` (where
/// [`ComponentSums::slot`] finds them), in sample order, by fused
/// multiply-adds: the bits of [`add_products`], with no row written or
/// read again.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn add_steps_in_registers<const SKIP: bool>(
    steps: &[f64],
    shifts: &[f64],
    sums: &mut StepSums,
    products: &mut [f64],
    padded: usize,
) {
    // One copy of the loop for each count of components, which the
    // registers must know: by offsets up to `HALF`, by halves beyond.
    macro_rules! by_count {
        ($($few:literal)*; $($many:literal)*) => {
            match shifts.len() {
                $($few => by_offsets::<$few, SKIP>(steps, shifts, sums, products, padded),)*
                $($many => halves::<$many, SKIP>(steps, shifts, sums, products),)*
                m => unreachable!("{m} components in registers"),
            }
        };
    }
    by_count!(2 3 4 5 6 7 8; 9 10 11 12 13 14 15 16);
}

/// Components in a half of [`halves`]: one AVX-512 vector.
const HALF: usize = 8;

/// Sums of products [`halves`] keeps, each [`HALF`] wide: the first
/// half's with the second's rotated by 0 to 7, each half's with itself
/// rotated by 1 to 4.
const HALVES: usize = 16;

/// Where [`halves`] keeps `Σ d_j d_k`, `j < k`: with the first half's
/// `j` and the second half rotated by `(k − HALF − j) mod HALF`, or within
/// a half at the smaller of the two rotations that pair them (the second
/// half's `HALF / 2` sums after the first's).
fn halves_slot(j: usize, k: usize) -> usize {
    if j < HALF && k >= HALF {
        // First half's j with the second's rotated by o.
        let o = (k - HALF + HALF - j) % HALF;
        o * HALF + j
    } else {
        let (base, j, k) = if j < HALF {
            (HALF, j, k)
        } else {
            (HALF + HALF / 2, j - HALF, k - HALF)
        };
        let d = k - j;
        if d <= HALF / 2 {
            (base + d - 1) * HALF + j
        } else {
            (base + HALF - d - 1) * HALF + k
        }
    }
}

/// [`add_steps_in_registers`] for `M` components, `HALF < M ≤ 2 · HALF`,
/// the products by halves (see [`halves_slot`]): with each half in one
/// AVX-512 vector, every rotation stays in its vector, one instruction
/// that leaves its source whole, where the rotations of all `M` took from
/// two vectors and overwrote one (and a copy to keep it): 35 vector
/// instructions a point for 16 components, not 49, 5% less time a run.
#[inline(always)]
fn halves<const M: usize, const SKIP: bool>(
    steps: &[f64],
    shifts: &[f64],
    sums: &mut StepSums,
    products: &mut [f64],
) {
    let mut acc = [[0.0; HALF]; HALVES];
    for (acc, products) in acc.iter_mut().zip(products.chunks(HALF)) {
        acc.copy_from_slice(products);
    }
    let shifts: &[f64; M] = shifts.try_into().expect("M shifts");
    for step in steps.chunks_exact(LANES * M) {
        for (values, lane) in step.chunks_exact(M).zip(lane_sums(sums, M)) {
            let e = add_point::<M, SKIP>(values, shifts, lane);
            let first: [f64; HALF] = std::array::from_fn(|l| e[l]);
            let second: [f64; HALF] =
                std::array::from_fn(|l| if HALF + l < M { e[HALF + l] } else { 0.0 });
            // Spelt out, as the offsets of `by_offsets` are.
            add_turned::<0>(&first, &second, &mut acc[0]);
            add_turned::<1>(&first, &second, &mut acc[1]);
            add_turned::<2>(&first, &second, &mut acc[2]);
            add_turned::<3>(&first, &second, &mut acc[3]);
            add_turned::<4>(&first, &second, &mut acc[4]);
            add_turned::<5>(&first, &second, &mut acc[5]);
            add_turned::<6>(&first, &second, &mut acc[6]);
            add_turned::<7>(&first, &second, &mut acc[7]);
            add_turned::<1>(&first, &first, &mut acc[8]);
            add_turned::<2>(&first, &first, &mut acc[9]);
            add_turned::<3>(&first, &first, &mut acc[10]);
            add_turned::<4>(&first, &first, &mut acc[11]);
            add_turned::<1>(&second, &second, &mut acc[12]);
            add_turned::<2>(&second, &second, &mut acc[13]);
            add_turned::<3>(&second, &second, &mut acc[14]);
            add_turned::<4>(&second, &second, &mut acc[15]);
        }
    }
    for (acc, products) in acc.iter().zip(products.chunks_mut(HALF)) {
        products.copy_from_slice(acc);
    }
}

/// Adds `a_l · b_((l + O) mod HALF)` to `sums`.
#[inline(always)]
fn add_turned<const O: usize>(a: &[f64; HALF], b: &[f64; HALF], sums: &mut [f64; HALF]) {
    let turned: [f64; HALF] = std::array::from_fn(|l| b[(l + O) % HALF]);
    for l in 0..HALF {
        sums[l] = a[l].mul_add(turned[l], sums[l]);
    }
}

/// [`add_steps_in_registers`] for `M ≤ 8` components, the products by
/// offsets.
#[inline(always)]
fn by_offsets<const M: usize, const SKIP: bool>(
    steps: &[f64],
    shifts: &[f64],
    sums: &mut StepSums,
    products: &mut [f64],
    padded: usize,
) {
    let mut offsets = [[0.0; M]; MOST_OFFSETS];
    for (offset, products) in offsets[..M / 2].iter_mut().zip(products.chunks(padded)) {
        offset.copy_from_slice(&products[..M]);
    }
    let shifts: &[f64; M] = shifts.try_into().expect("M shifts");
    for step in steps.chunks_exact(LANES * M) {
        for (values, lane) in step.chunks_exact(M).zip(lane_sums(sums, M)) {
            let e = &add_point::<M, SKIP>(values, shifts, lane);
            // Spelt out: as a loop over the offsets, the products stayed in
            // memory and the rotations were gathered.
            add_rotated::<M, 1>(e, &mut offsets);
            add_rotated::<M, 2>(e, &mut offsets);
            add_rotated::<M, 3>(e, &mut offsets);
            add_rotated::<M, 4>(e, &mut offsets);
        }
    }
    for (offset, products) in offsets[..M / 2].iter().zip(products.chunks_mut(padded)) {
        products[..M].copy_from_slice(offset);
    }
}

/// Adds a point's `M` values to its lane's sums as [`add_steps`] does,
/// and returns their shifted values `e = shift − value`.
#[inline(always)]
fn add_point<const M: usize, const SKIP: bool>(
    values: &[f64],
    shifts: &[f64; M],
    (sum, squares, skipped): (&mut [f64], &mut [f64], &mut [u64]),
) -> [f64; M] {
    // In and out of arrays: the sums read in place, the compiler could not
    // tell them apart from the values, and kept to scalars.
    let values: &[f64; M] = values.try_into().expect("M values");
    let mut lane_sum: [f64; M] = (&*sum).try_into().expect("M sums");
    let mut lane_squares: [f64; M] = (&*squares).try_into().expect("M squares");
    let mut lane_skipped: [u64; M] = (&*skipped).try_into().expect("M counts");
    let mut e = [0.0; M];
    for j in 0..M {
        e[j] = shifts[j] - values[j];
        if SKIP {
            let finite = e[j].is_finite();
            lane_skipped[j] += u64::from(!finite);
            e[j] = if finite { e[j] } else { shifts[j] };
        }
        lane_sum[j] -= e[j];
        lane_squares[j] += e[j] * e[j];
    }
    sum.copy_from_slice(&lane_sum);
    squares.copy_from_slice(&lane_squares);
    if SKIP {
        skipped.copy_from_slice(&lane_skipped);
    }
    e
}

/// Each lane's sums, `m` values each, as [`add_point`] takes them.
fn lane_sums(
    sums: &mut StepSums,
    m: usize,
) -> impl Iterator<Item = (&mut [f64], &mut [f64], &mut [u64])> {
    let lanes = sums
        .sum
        .chunks_exact_mut(m)
        .zip(sums.squares.chunks_exact_mut(m));
    (lanes.zip(sums.skipped.chunks_exact_mut(m)))
        .map(|((sum, squares), skipped)| (sum, squares, skipped))
}

/// Offsets of the components [`by_offsets`] takes: `HALF / 2`.
const MOST_OFFSETS: usize = HALF / 2;

/// Adds to offset `O`'s products those of a point's shifted values `e`
/// (`e_j · e_k = d_j · d_k`, the signs cancel exactly) with the values
/// `O` places on, cyclically; nothing past offset `M / 2`.
#[inline(always)]
fn add_rotated<const M: usize, const O: usize>(
    e: &[f64; M],
    offsets: &mut [[f64; M]; MOST_OFFSETS],
) {
    if O <= M / 2 {
        let rotated: [f64; M] = std::array::from_fn(|j| e[(j + O) % M]);
        let sums = &mut offsets[O - 1];
        for j in 0..M {
            sums[j] = e[j].mul_add(rotated[j], sums[j]);
        }
    }
}

/// Adds whole steps of values (`LANES · m` a step, `m = shifts.len()`) to
/// the lanes' sums, a step at a time, each point's values together: as the
/// scalar kernel's sum pass (which explains the arithmetic), each lane's
/// values in sample order, `sum -= e` for `e = shift − value`, `squares +=
/// e · e`, no fused multiply-add; with `SKIP`, a value that is not finite is
/// counted and adds `−shift`. Each `e` also goes twice into its point's
/// row of `length` values.
///
/// A pass over the block per [`WIDTH`] lanes, with their sums in
/// registers, took more instructions to set up than to add a block of the
/// L1 cache's size, and in larger blocks waited on the memory, its loads
/// a step apart.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn add_steps<const SKIP: bool>(
    steps: &[f64],
    shifts: &[f64],
    sums: &mut StepSums,
    rows: &mut [f64],
    length: usize,
) {
    let m = shifts.len();
    let rows = rows.chunks_exact_mut(LANES * length);
    for (step, rows) in steps.chunks_exact(LANES * m).zip(rows) {
        let lanes = step.chunks_exact(m).zip(rows.chunks_exact_mut(length));
        let sums = (sums.sum.chunks_exact_mut(m))
            .zip(sums.squares.chunks_exact_mut(m))
            .zip(sums.skipped.chunks_exact_mut(m));
        for ((values, row), ((sum, squares), skipped)) in lanes.zip(sums) {
            // Every slice `m` long, so the loop has no bounds checks and
            // vectorises (a chain of zipped iterators did not).
            let (near, far) = row.split_at_mut(m);
            let (near, far, shifts) = (&mut near[..m], &mut far[..m], &shifts[..m]);
            let (sum, squares, skipped) = (&mut sum[..m], &mut squares[..m], &mut skipped[..m]);
            for j in 0..m {
                let mut e = shifts[j] - values[j];
                if SKIP {
                    let finite = e.is_finite();
                    skipped[j] += u64::from(!finite);
                    e = if finite { e } else { shifts[j] };
                }
                sum[j] -= e;
                squares[j] += e * e;
                (near[j], far[j]) = (e, e);
            }
        }
    }
}

/// Adds the products of each offset's pairs of a block's rows (`e_j ·
/// e_k = d_j · d_k`, the signs cancel exactly), [`WIDE`] components at a
/// time, an offset and the one [`APART`] on in one pass through the rows,
/// by fused multiply-adds: rounded once, the same bits on every
/// instruction set.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq", "x86_64+avx2+fma", "x86_64+sse4.1"))]
fn add_products(m: usize, padded: usize, rows: &[f64], products: &mut [f64]) {
    let length = row_length(padded);
    let offsets = m / 2;
    for first in (0..m).step_by(WIDE) {
        // Offsets 1 to 4 with 5 to 8, 9 to 12 with 13 to 16, ...
        for offset in (1..=offsets).filter(|o| (o - 1) % (2 * APART) < APART) {
            let at = (offset - 1) * padded + first;
            if offset + APART <= offsets {
                add_offsets::<true>(rows, length, first, offset, padded, &mut products[at..]);
            } else {
                add_offsets::<false>(rows, length, first, offset, padded, &mut products[at..]);
            }
        }
    }
}

/// Adds the products of components `first..first + WIDE` with those
/// `offset` places on, and with `TWO`, those `offset + APART` on, through
/// every row; `products` from offset `offset`'s sum of component `first`,
/// `padded` on to the next offset's.
#[inline(always)]
fn add_offsets<const TWO: bool>(
    rows: &[f64],
    length: usize,
    first: usize,
    offset: usize,
    padded: usize,
    products: &mut [f64],
) {
    let far = APART * padded;
    let mut near_sums: [f64; WIDE] = products[..WIDE].try_into().expect("WIDE sums");
    let mut far_sums = [0.0; WIDE];
    if TWO {
        far_sums.copy_from_slice(&products[far..][..WIDE]);
    }
    assert!(first + offset + WIDE + APART <= length);
    for row in rows.chunks_exact(length) {
        let a: &[f64; WIDE] = row[first..][..WIDE].try_into().expect("WIDE values");
        let b: &[f64; WIDE + APART] = (row[first + offset..][..WIDE + APART])
            .try_into()
            .expect("the widest load");
        for l in 0..WIDE {
            near_sums[l] = a[l].mul_add(b[l], near_sums[l]);
        }
        if TWO {
            for l in 0..WIDE {
                far_sums[l] = a[l].mul_add(b[l + APART], far_sums[l]);
            }
        }
    }
    products[..WIDE].copy_from_slice(&near_sums);
    if TWO {
        products[far..][..WIDE].copy_from_slice(&far_sums);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{LaneSums, add_values};
    use crate::sample::Lanes;

    /// `count` points of `m` values from a stream, some of them NaN or
    /// infinite when `bad`, around means far from 0 so that the shifts
    /// matter.
    fn block(m: usize, count: usize, bad: bool) -> Vec<f64> {
        let mut lanes = Lanes::new(0xc0ffee);
        let mut values = Vec::with_capacity(count * m);
        while values.len() < count * m {
            for bits in lanes.next() {
                let u = (bits >> 11) as f64 / (1u64 << 53) as f64;
                let j = values.len() % m;
                let value = match (bad, bits % 97) {
                    (true, 0) => f64::NAN,
                    (true, 1) => f64::NEG_INFINITY,
                    _ => 1e3 * j as f64 + u * (1.0 + j as f64),
                };
                values.push(value);
            }
        }
        values.truncate(count * m);
        values
    }

    /// The sums of `values` in blocks of `sizes` points (whole steps but
    /// for the last), as a chunk keeps them, the products added
    /// `in_registers` or in the rows' pass.
    fn in_blocks(
        values: &[f64],
        m: usize,
        sizes: &[usize],
        skip: bool,
        in_registers: bool,
    ) -> ComponentSums {
        let first = &values[..LANES * m];
        let shifts: Vec<f64> = (0..m)
            .map(|j| {
                let column = first.iter().skip(j).step_by(m);
                column.copied().find(|v| v.is_finite()).unwrap_or(0.0)
            })
            .collect();
        let room = *sizes.iter().max().unwrap();
        let mut sums = ComponentSums::with_products(&shifts, room, in_registers);
        let mut at = 0;
        for &size in sizes {
            sums.add(&values[at * m..(at + size) * m], skip);
            at += size;
        }
        assert_eq!(at * m, values.len());
        sums
    }

    /// Each component has the bits of the one-component path over its
    /// values alone, and each pair's products those of adding them one
    /// point at a time, in sample order, by fused multiply-adds (and its
    /// co-moment the formula's): for odd and even `m`, `m` below and above
    /// a whole [`WIDE`], skipped values and a partial last step, the
    /// products added in registers (as far as this CPU's hold them) and in
    /// the rows' pass.
    #[test]
    fn components_and_pairs_are_their_one_by_one_sums() {
        let registers = (2..=most_in_registers()).map(|m| (m, true));
        let in_rows = [2, 3, 5, 8, 11, 16, 17].map(|m| (m, false));
        for (m, in_registers) in registers.chain(in_rows) {
            for skip in [false, true] {
                let sizes = [16, 48, 7 * 16, 16, 37];
                let count: usize = sizes.iter().sum();
                let values = block(m, count, skip);
                let sums = in_blocks(&values, m, &sizes, skip, in_registers);
                let part = sums.finish(count as u64).unwrap();
                let mut shifted = vec![vec![0.0; count]; m];
                let mut totals = vec![0.0; m];
                for j in 0..m {
                    let column: Vec<f64> = values.iter().skip(j).step_by(m).copied().collect();
                    let shift = column[..LANES].iter().copied().find(|v| v.is_finite());
                    let shift = shift.unwrap_or(0.0);
                    let mut lanes = LaneSums::default();
                    let whole = count - count % LANES;
                    add_values(&column[..whole], shift, skip, &mut lanes);
                    for (lane, &value) in column[whole..].iter().enumerate() {
                        lanes.add(lane, value, shift, skip);
                    }
                    totals[j] = tree_sum(lanes.sum);
                    let squares = tree_sum(lanes.squares);
                    let alone =
                        Accumulator::from_shifted_sums(count as u64, shift, totals[j], squares);
                    assert_eq!(part.values[j], alone, "m = {m}, component {j}");
                    assert_eq!(part.skipped[j], lanes.skipped.iter().sum::<u64>());
                    for (d, &value) in shifted[j].iter_mut().zip(&column) {
                        *d = if value.is_finite() {
                            value - shift
                        } else {
                            -shift
                        };
                    }
                }
                let n = count as f64;
                for (&c, (j, k)) in part.comoments.iter().zip(pair_indices(m)) {
                    let products = (shifted[j].iter().zip(&shifted[k]))
                        .fold(0.0, |sum: f64, (a, b)| a.mul_add(*b, sum));
                    assert_eq!(sums.product(j, k), products, "m = {m}, ({j}, {k})");
                    assert_eq!(c, products - totals[j] * (totals[k] / n));
                }
                assert_eq!(part.comoments.len(), m * (m - 1) / 2);
                assert_eq!(skip, part.skipped.iter().sum::<u64>() > 0);
            }
        }
    }

    /// Without `skip`, a value that is not finite shows in the sums.
    #[test]
    fn a_value_that_is_not_finite_shows() {
        let mut values = block(3, 64, false);
        let mut sums = in_blocks(&values, 3, &[64], false, true);
        assert!(!sums.any_non_finite());
        values[100] = f64::INFINITY;
        sums.add(&values[96..144], false);
        assert!(sums.any_non_finite());
    }
}
