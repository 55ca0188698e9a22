//! A fast matcher for the shape most RegexSerDe patterns have: a chain of
//! character classes with quantifiers, literals and capture groups, such as
//! `([^ ]+)\s+([^ ]+)\s+...\%20([^/]+)/(.*)` (no alternation, no quantified
//! groups). Hive matches the whole line (`Matcher.matches()`).
//!
//! Capture positions under leftmost-first (backtracking) semantics are found
//! in two passes over the line, each a few word operations per step:
//! 1. backward: for each step `i`, the set of positions from which steps
//!    `i..` can match the rest of the line exactly ("viable"), as bit sets.
//!    A `C+` step is a carry-propagating addition over the class's bit mask
//!    (runs of the class are filled from their viable ends);
//! 2. forward: each step takes the end its quantifier prefers (longest for
//!    greedy, shortest for lazy) among those that leave a viable rest.
//!
//! This costs O(steps x line length / 64) and never backtracks, where a
//! backtracking engine (Java's, which Hive uses) can take milliseconds per
//! line on the same pattern, and a general capture engine (PikeVM) tens of
//! microseconds.
//!
//! Positions are bytes. Classes are exact over bytes when they contain
//! either every non-ASCII character or none; counted quantifiers are only
//! taken on ASCII classes; ends must fall on character boundaries. Patterns
//! outside these rules go to the general engines.

use regex_syntax::hir::{Class, Hir, HirKind, Look};

/// The bytes a step accepts.
#[derive(Debug, Clone, PartialEq)]
enum ByteClass {
    Eq(u8),
    Ne(u8),
    Table(Box<[bool; 256]>),
}

impl ByteClass {
    /// `class` as bytes, if it contains all non-ASCII characters or none.
    fn of(class: &Class) -> Option<(ByteClass, bool)> {
        let mut table = [false; 256];
        let non_ascii = match class {
            Class::Unicode(u) => {
                let mut non_ascii_chars: u64 = 0;
                for r in u.ranges() {
                    let (s, e) = (r.start() as u32, r.end() as u32);
                    for c in s..=e.min(127) {
                        table[c as usize] = true;
                    }
                    if e >= 128 {
                        let lo = s.max(128);
                        // Ranges of chars step over the surrogate gap.
                        let gap = (e.min(0xDFFF) + 1).saturating_sub(lo.max(0xD800));
                        non_ascii_chars += (e - lo + 1 - gap) as u64;
                    }
                }
                // All scalar values from U+0080 (excluding surrogates).
                let all = (0x10FFFF - 0x80 + 1) - 0x800;
                if non_ascii_chars == 0 {
                    false
                } else if non_ascii_chars == all {
                    true
                } else {
                    return None;
                }
            }
            Class::Bytes(b) => {
                if b.ranges().iter().any(|r| r.end() >= 128) {
                    return None;
                }
                for r in b.ranges() {
                    for c in r.start()..=r.end() {
                        table[c as usize] = true;
                    }
                }
                false
            }
        };
        if non_ascii {
            for t in table.iter_mut().skip(128) {
                *t = true;
            }
        }
        let members: Vec<usize> = (0..256).filter(|&b| table[b]).collect();
        let class = if members.len() == 1 {
            ByteClass::Eq(members[0] as u8)
        } else if members.len() == 255 {
            ByteClass::Ne((0..256).find(|&b| !table[b]).expect("one byte is outside the class") as u8)
        } else {
            ByteClass::Table(Box::new(table))
        };
        Some((class, non_ascii))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Open(usize),
    Close(usize),
    Rep { class: usize, min: u32, max: Option<u32>, greedy: bool },
}

/// A compiled chain pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    steps: Vec<Step>,
    classes: Vec<ByteClass>,
    /// Number of capture groups (group 0, the whole line, not counted).
    groups: usize,
}

/// Buffers reused from line to line.
#[derive(Debug, Default)]
pub struct ChainScratch {
    masks: Vec<u64>,
    viable: Vec<u64>,
    tmp: Vec<u64>,
    boundary: Vec<u64>,
    rev: Vec<u8>,
    open: Vec<usize>,
}

/// Limit on steps a counted quantifier expands to.
const MAX_COUNT: u32 = 64;

impl Chain {
    /// The chain for `hir`, if it has the chain's shape.
    pub fn from_hir(hir: &Hir) -> Option<Chain> {
        let mut c = Chain { steps: Vec::new(), classes: Vec::new(), groups: 0 };
        let mut seen_consuming = false;
        c.flatten(hir, &mut seen_consuming)?;
        // Trailing end anchors were skipped; any other look fails in flatten.
        Some(c)
    }

    fn class_index(&mut self, class: ByteClass) -> usize {
        match self.classes.iter().position(|c| *c == class) {
            Some(i) => i,
            None => {
                self.classes.push(class);
                self.classes.len() - 1
            }
        }
    }

    fn flatten(&mut self, hir: &Hir, consumed: &mut bool) -> Option<()> {
        match hir.kind() {
            HirKind::Empty => {}
            HirKind::Literal(lit) => {
                for &b in lit.0.iter() {
                    let class = self.class_index(ByteClass::Eq(b));
                    self.steps.push(Step::Rep { class, min: 1, max: Some(1), greedy: true });
                }
                *consumed |= !lit.0.is_empty();
            }
            HirKind::Class(class) => {
                let (bc, non_ascii) = ByteClass::of(class)?;
                if non_ascii {
                    return None; // one character may be several bytes
                }
                let class = self.class_index(bc);
                self.steps.push(Step::Rep { class, min: 1, max: Some(1), greedy: true });
                *consumed = true;
            }
            HirKind::Look(look) => {
                // Anchors at the very start or end are implied by a whole-line match.
                let start = matches!(look, Look::Start | Look::StartLF | Look::StartCRLF);
                let end = matches!(look, Look::End | Look::EndLF | Look::EndCRLF);
                if !((start && !*consumed) || end) {
                    return None;
                }
                if end {
                    self.steps.push(Step::Open(usize::MAX)); // marks "must be at the end"
                }
            }
            HirKind::Repetition(rep) => {
                let (bc, non_ascii) = match rep.sub.kind() {
                    HirKind::Class(class) => ByteClass::of(class)?,
                    HirKind::Literal(lit) if lit.0.len() == 1 => (ByteClass::Eq(lit.0[0]), false),
                    _ => return None,
                };
                if non_ascii && (rep.min > 1 || rep.max.is_some()) {
                    return None;
                }
                if rep.min > MAX_COUNT || rep.max.is_some_and(|m| m > MAX_COUNT) {
                    return None;
                }
                let class = self.class_index(bc);
                self.steps.push(Step::Rep { class, min: rep.min, max: rep.max, greedy: rep.greedy });
                *consumed |= rep.max != Some(0);
            }
            HirKind::Capture(cap) => {
                let g = cap.index as usize;
                self.groups = self.groups.max(g);
                self.steps.push(Step::Open(g));
                self.flatten(&cap.sub, consumed)?;
                self.steps.push(Step::Close(g));
            }
            HirKind::Concat(parts) => {
                for p in parts {
                    self.flatten(p, consumed)?;
                }
            }
            HirKind::Alternation(_) => return None,
        }
        Some(())
    }

    /// The number of capture groups.
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The number of steps to take to know the groups `groups` (1-based):
    /// the forward pass stops there.
    pub fn steps_for(&self, groups: &[usize]) -> usize {
        self.steps.iter().rposition(|st| matches!(st, Step::Close(g) if groups.contains(g))).map_or(0, |i| i + 1)
    }

    /// Match the whole `line`; on success `slots[g - 1]` holds group `g`'s
    /// byte range for the groups closed within the first `steps` steps
    /// (see [`Chain::steps_for`]; `usize::MAX` for all).
    pub fn captures(
        &self,
        line: &[u8],
        s: &mut ChainScratch,
        slots: &mut [Option<(usize, usize)>],
        steps_needed: usize,
    ) -> bool {
        let n = line.len();
        // Bit r of a set stands for position n - r; one spare bit for carries.
        let words = (n + 1) / 64 + 1;
        let steps = &self.steps;
        // The line reversed, so that bit r of a mask is the byte at n - r.
        s.rev.clear();
        s.rev.push(0);
        s.rev.extend(line.iter().rev());
        s.rev.resize(words * 64, 0);
        s.masks.clear();
        s.masks.resize(words * self.classes.len(), 0);
        for (k, class) in self.classes.iter().enumerate() {
            let m = &mut s.masks[k * words..(k + 1) * words];
            match class {
                ByteClass::Eq(c) => build_eq_mask(&s.rev, m, *c, false),
                ByteClass::Ne(c) => build_eq_mask(&s.rev, m, *c, true),
                ByteClass::Table(t) => build_mask(&s.rev, m, |b| t[b as usize]),
            }
            // Bit 0 is the end of the line, bits past n are padding.
            m[0] &= !1;
            let top = (n + 1) % 64;
            if top != 0 {
                m[words - 1] &= (1u64 << top) - 1;
            }
        }
        s.boundary.clear();
        if line.is_ascii() {
            s.boundary.resize(words, !0);
        } else {
            s.boundary.resize(words, 0);
            build_mask(&s.rev, &mut s.boundary, |b| (b & 0xC0) != 0x80);
            s.boundary[0] |= 1;
        }
        s.viable.clear();
        s.viable.resize(words * (steps.len() + 1), 0);
        s.tmp.clear();
        s.tmp.resize(words * 2, 0);
        // After the last step only the end of the line is viable.
        s.viable[steps.len() * words] = 1;
        for (i, step) in steps.iter().enumerate().rev() {
            let (before, after) = s.viable.split_at_mut((i + 1) * words);
            let next = &after[..words];
            let cur = &mut before[i * words..];
            match step {
                Step::Open(usize::MAX) => {
                    // `$`: only the end of the line.
                    cur.fill(0);
                    cur[0] = next[0] & 1;
                }
                Step::Open(_) | Step::Close(_) => cur.copy_from_slice(next),
                Step::Rep { class, min, max, .. } => {
                    let m = &s.masks[class * words..(class + 1) * words];
                    let b = &s.boundary;
                    match (*min, *max) {
                        (0 | 1, None) => {
                            // C* / C+: seeds (next << 1) & m filled through runs of m.
                            let (mut shift_carry, mut add_carry) = (0u64, false);
                            for w in 0..words {
                                let nw = next[w];
                                let t = ((nw << 1) | shift_carry) & m[w];
                                shift_carry = nw >> 63;
                                let (s1, o1) = m[w].overflowing_add(t);
                                let (s2, o2) = s1.overflowing_add(add_carry as u64);
                                add_carry = o1 || o2;
                                let filled = t | (m[w] & (s2 ^ m[w] ^ t));
                                cur[w] = if *min == 0 { nw | filled } else { filled } & b[w];
                            }
                        }
                        (1, Some(1)) => {
                            let mut shift_carry = 0u64;
                            for w in 0..words {
                                let nw = next[w];
                                cur[w] = ((nw << 1) | shift_carry) & m[w] & b[w];
                                shift_carry = nw >> 63;
                            }
                        }
                        (min, max) => {
                            cur.copy_from_slice(next);
                            let (t, sum) = s.tmp.split_at_mut(words);
                            match max {
                                None => {
                                    shl1_and(cur, m, t);
                                    fill(m, t, sum);
                                    for w in 0..words {
                                        cur[w] |= sum[w];
                                    }
                                }
                                Some(max) => {
                                    for _ in min..max {
                                        shl1_and(cur, m, t);
                                        for w in 0..words {
                                            cur[w] |= t[w];
                                        }
                                    }
                                }
                            }
                            for _ in 0..min {
                                shl1_and(cur, m, t);
                                cur.copy_from_slice(t);
                            }
                            for w in 0..words {
                                cur[w] &= b[w];
                            }
                        }
                    }
                }
            }
        }
        if !bit(&s.viable[..words], n) {
            return false;
        }
        for slot in slots.iter_mut() {
            *slot = None;
        }
        let open = &mut s.open;
        open.clear();
        open.resize(self.groups + 1, 0);
        let mut p = 0usize;
        for (i, step) in steps.iter().enumerate().take(steps_needed) {
            match step {
                Step::Open(usize::MAX) => {}
                Step::Open(g) => open[*g] = p,
                Step::Close(g) => {
                    if let Some(slot) = slots.get_mut(*g - 1) {
                        *slot = Some((open[*g], p));
                    }
                }
                Step::Rep { class, min, max, greedy } => {
                    let m = &s.masks[class * words..(class + 1) * words];
                    let next = &s.viable[(i + 1) * words..(i + 2) * words];
                    let run = run_length(m, n - p);
                    let hi = max.map_or(run, |mx| (mx as usize).min(run));
                    let lo = *min as usize;
                    if lo > hi {
                        return false;
                    }
                    // Ends p+lo ..= p+hi are positions n-p-hi ..= n-p-lo.
                    let (r_lo, r_hi) = (n - p - hi, n - p - lo);
                    let r = if *greedy { lowest_set(next, r_lo, r_hi) } else { highest_set(next, r_lo, r_hi) };
                    match r {
                        Some(r) => p = n - r,
                        None => return false,
                    }
                }
            }
        }
        // The backward pass proved that the whole line matches.
        true
    }
}

/// Set bit `64 w + j` of `out` where `pred(bytes[64 w + j])`.
#[inline(always)]
fn build_mask(bytes: &[u8], out: &mut [u64], pred: impl Fn(u8) -> bool) {
    for (word, chunk) in out.iter_mut().zip(bytes.chunks_exact(64)) {
        let mut x = 0u64;
        for (j, &b) in chunk.iter().enumerate() {
            x |= (pred(b) as u64) << j;
        }
        *word = x;
    }
}

/// Set bit `64 w + j` of `out` where `bytes[64 w + j] == c` (negated if `ne`).
#[allow(unsafe_code)] // see the SAFETY comments
fn build_eq_mask(bytes: &[u8], out: &mut [u64], c: u8, ne: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        // SAFETY: SSE2 is part of x86_64; loads are unaligned and within `chunk`.
        unsafe {
            let needle = _mm_set1_epi8(c as i8);
            for (word, chunk) in out.iter_mut().zip(bytes.chunks_exact(64)) {
                let mut x = 0u64;
                for k in 0..4 {
                    let v = _mm_loadu_si128(chunk.as_ptr().add(16 * k) as *const __m128i);
                    let m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, needle)) as u16 as u64;
                    x |= m << (16 * k);
                }
                *word = if ne { !x } else { x };
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    build_mask(bytes, out, |b| (b == c) != ne);
}

fn bit(set: &[u64], r: usize) -> bool {
    set[r / 64] >> (r % 64) & 1 == 1
}

/// out = (a << 1) & m
fn shl1_and(a: &[u64], m: &[u64], out: &mut [u64]) {
    let mut carry = 0u64;
    for w in 0..a.len() {
        out[w] = ((a[w] << 1) | carry) & m[w];
        carry = a[w] >> 63;
    }
}

/// out = the bits of `m` reachable upwards from a seed in `t` (t ⊆ m)
/// through consecutive bits of `m`: t | (m & ((m + t) ^ m ^ t)).
fn fill(m: &[u64], t: &[u64], out: &mut [u64]) {
    let mut carry = false;
    for w in 0..m.len() {
        let (s1, c1) = m[w].overflowing_add(t[w]);
        let (s2, c2) = s1.overflowing_add(carry as u64);
        carry = c1 || c2;
        out[w] = t[w] | (m[w] & (s2 ^ m[w] ^ t[w]));
    }
}

/// How many consecutive bits of `m` are set from bit `r` downwards.
fn run_length(m: &[u64], r: usize) -> usize {
    let mut w = r / 64;
    // The highest zero bit at or below r ends the run.
    let mut x = !m[w] & (!0u64 >> (63 - r % 64));
    loop {
        if x != 0 {
            return r - (w * 64 + 63 - x.leading_zeros() as usize);
        }
        if w == 0 {
            return r + 1;
        }
        w -= 1;
        x = !m[w];
    }
}

/// The lowest set bit in `[lo, hi]`.
fn lowest_set(set: &[u64], lo: usize, hi: usize) -> Option<usize> {
    let mut w = lo / 64;
    let mut x = set[w] & (!0u64 << (lo % 64));
    loop {
        if x != 0 {
            let r = w * 64 + x.trailing_zeros() as usize;
            return (r <= hi).then_some(r);
        }
        w += 1;
        if w * 64 > hi || w >= set.len() {
            return None;
        }
        x = set[w];
    }
}

/// The highest set bit in `[lo, hi]`.
fn highest_set(set: &[u64], lo: usize, hi: usize) -> Option<usize> {
    let mut w = hi / 64;
    let mut x = set[w] & (!0u64 >> (63 - hi % 64));
    loop {
        if x != 0 {
            let r = w * 64 + 63 - x.leading_zeros() as usize;
            return (r >= lo).then_some(r);
        }
        if w == 0 || (w - 1) * 64 + 63 < lo {
            return None;
        }
        w -= 1;
        x = set[w];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(p: &str) -> Option<Chain> {
        Chain::from_hir(&regex_syntax::parse(p).unwrap())
    }

    /// The chain agrees with the regex crate on captures for random lines.
    #[test]
    fn agrees_with_the_regex_crate() {
        let patterns = [
            r"([^ ]+)[\t ]+([^ ]+)[\t ]+(.*)",
            r"^([^ ]+)[\t ]+([^ ]+)[\t ]+([^ ]+)[\t ]+[^\(]+[\(]([^\;]+).*\%20([^\/]+)[\/](.*)$",
            r"(a*?)(b?)(a+)x*",
            r"([a-c]{2,4})([b-d]{1,3})(.*?)",
            r"([0-9]+)-([0-9]*)([^-]*)",
            r"((a+)(b*))c(x+)(.*)",
            r"(.+?)=(.*)",
            r"([^,]*),([^,]*),(.*)$",
        ];
        let alphabet = ["a", "b", "c", "d", " ", "\t", "(", ";", "%20", "/", "-", "1", "=", ",", "é", "x"];
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(12345);
        let mut rnd = move |n: usize| rand::Rng::random_range(&mut rng, 0..n);
        for p in patterns {
            let c = chain(p).unwrap_or_else(|| panic!("{p} is a chain"));
            let re = regex::Regex::new(&format!(r"\A(?:{p})\z")).unwrap();
            let mut s = ChainScratch::default();
            let mut slots = vec![None; c.groups()];
            for _ in 0..3000 {
                let len = rnd(90);
                let line: String = (0..len).map(|_| alphabet[rnd(alphabet.len())]).collect();
                let expected = re
                    .captures(&line)
                    .map(|caps| (1..caps.len()).map(|g| caps.get(g).map(|m| (m.start(), m.end()))).collect::<Vec<_>>());
                let got = c.captures(line.as_bytes(), &mut s, &mut slots, usize::MAX).then(|| slots.clone());
                assert_eq!(got, expected, "pattern {p} line {line:?}");
            }
        }
    }

    #[test]
    fn takes_the_emr_pattern() {
        let t =
            super::super::java::translate(r"^([^ ]+)\s+([^ ]+)\s+[^\(]+[\(]([^\;]+).*\%20([^\/]+)[\/](.*)$").unwrap();
        let hir = regex_syntax::parse(&format!(r"\A(?:{})\z", t.pattern)).unwrap();
        assert!(Chain::from_hir(&hir).is_some(), "{hir:?}");
    }

    #[test]
    fn declines_other_shapes() {
        for p in [r"(ab|c)d", r"(ab)+", r"é{2}", r"\bx", r"a(?m:^)b", r"[é-ü]+"] {
            assert!(chain(p).is_none(), "{p}");
        }
    }
}
