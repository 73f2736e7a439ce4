//! The Feistel rounds: FF1 on one value or on many interleaved, all ten
//! rounds inside one call into the cipher's backend.

use aes::cipher::{
    Array, BlockCipherEncBackend, BlockCipherEncClosure, BlockSizeUser, consts::U16,
    typenum::Unsigned,
};
use zeroize::Zeroize;

use super::{BATCH_LANES, Block, Ff1};

/// (VAES): the VAES-512 backend's 64 parallel blocks.
const WIDE_LANES: usize = 64;

/// The high 64 bits of a 128-bit value.
#[inline(always)]
#[allow(
    clippy::cast_possible_truncation,
    reason = "shifted right by 64: the value fits in 64 bits"
)]
const fn high_u64(x: u128) -> u64 {
    (x >> 64) as u64
}

impl<C> Ff1<C> {
    /// Steps 1 and 2: `NUM(A) = x div radix^v`, `NUM(B) = x mod radix^v`.
    #[inline(always)]
    fn split<const N: usize>(&self, xs: &[u64; N]) -> ([u64; N], [u64; N]) {
        let mut a = [0u64; N];
        let mut b = [0u64; N];
        for ((&x, a), b) in xs.iter().zip(a.iter_mut()).zip(b.iter_mut()) {
            (*a, *b) = self.div_v.div_rem(x);
        }
        (a, b)
    }

    /// Step 7: `NUM_radix(A || B) = NUM(A) * radix^v + NUM(B)`, with `A`
    /// of `u` digits and `B` of `v` digits (below radix^n < 2^63: no
    /// wrap).
    #[inline(always)]
    fn join<const N: usize>(&self, a: &[u64; N], b: &[u64; N], out: &mut [u64; N]) {
        for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
            *o = a.wrapping_mul(self.div_v.get()).wrapping_add(b);
        }
    }

    /// 6.i and 6.ii, round part: the last block of Q is
    /// `... || [i]^1 || [NUM(h)]^b` where `h` is B (encryption) or A
    /// (decryption), `h < radix^v < 2^(8b)`. XORed into the precomputed
    /// state, it is the input of the final CBC-MAC block encryption.
    #[inline(always)]
    fn last_block(&self, i: u8, h: u64) -> Block {
        let x = self.last_block_base ^ (u128::from(i) << self.i_shift) ^ u128::from(h);
        Block::from(x.to_be_bytes())
    }
}

/// FF1 on `N` in-range values at once (`DECRYPT = false`: SP 800-38G
/// Algorithm 7, FF1.Encrypt; `true`: Algorithm 8, FF1.Decrypt), on the
/// cipher's backend.
#[inline(always)]
fn lanes<C, B, const N: usize, const DECRYPT: bool>(ff1: &Ff1<C>, backend: &B, xs: &mut [u64; N])
where
    B: BlockCipherEncBackend<BlockSize = U16>,
{
    // Steps 1-5 were done by `from_cipher`, except splitting X:
    // 1. u = floor(n/2), v = n - u.
    // 2. A = X[1..u], B = X[u+1..n].
    let (mut a_lanes, mut b_lanes) = ff1.split(xs);
    let (a, b) = (&mut a_lanes, &mut b_lanes);
    let mut blocks = [Block::default(); N];
    // 6. For i from 0 to 9 (decryption: from 9 to 0):
    for round in 0u8..10 {
        // Encryption: i from 0 to 9; decryption: i from 9 to 0.
        let i = if DECRYPT { 9 - round } else { round };
        // 6.i   Q = T || [0]^((-t-b-1) mod 16) || [i]^1 || [NUM(H)]^b,
        //       H = B (encryption) or A (decryption).
        // 6.ii  R = PRF(P || Q): one AES block per lane, the rest of
        //       the CBC-MAC is precomputed.
        let hs: &[u64; N] = if DECRYPT { a } else { b };
        for (block, &h) in blocks.iter_mut().zip(hs) {
            *block = ff1.last_block(i, h);
        }
        encrypt_blocks_on(backend, &mut blocks);
        // 6.v   If i is even, m = u; else m = v (i is public).
        let modulus = if i % 2 == 0 { ff1.div_u } else { ff1.div_v };
        for ((block, a), b) in blocks.iter().zip(a.iter_mut()).zip(b.iter_mut()) {
            // 6.iii S = the first d = 8 bytes of R (d <= 16: no extra
            //       AES blocks).
            // 6.iv  y = NUM_2(S).
            let y = high_u64(u128::from_be_bytes((*block).into()));
            if DECRYPT {
                // 6.vi  c = (NUM_radix(B) - y) mod radix^m.
                // 6.vii C = STR^m_radix(c): kept as its value c.
                let c = modulus.sub_mod(*b, y);
                // 6.viii B = A.
                *b = *a;
                // 6.ix  A = C.
                *a = c;
            } else {
                // 6.vi  c = (NUM_radix(A) + y) mod radix^m.
                // 6.vii C = STR^m_radix(c): kept as its value c.
                let c = modulus.add_mod(*a, y);
                // 6.viii A = B.
                *a = *b;
                // 6.ix  B = C.
                *b = c;
            }
        }
    }
    // 7. Return A || B.
    ff1.join(a, b, xs);
    for block in blocks.iter_mut() {
        block.as_mut_slice().zeroize();
    }
    a_lanes.zeroize();
    b_lanes.zeroize();
}

/// One FF1 evaluation, run as a closure on the cipher's backend.
///
/// Why a closure: `BlockCipherEncrypt::encrypt_block(s)` re-enters the
/// `aes` crate's backend dispatch on every call, and on CPUs with VAES its
/// AVX-512/AVX2 backends first broadcast the whole key schedule into vector
/// registers: 36 ns per call on the development machine (AMD EPYC, aes
/// 0.9.4), three times the AES work of one block. Running all ten rounds
/// inside one `encrypt_with_backend` call pays that once per evaluation
/// instead of once per round. See `docs/PERFORMANCE.md`.
pub(super) struct Single<'a, C, const DECRYPT: bool> {
    pub(super) ff1: &'a Ff1<C>,
    pub(super) xs: &'a mut [u64; 1],
}

impl<C, const DECRYPT: bool> BlockSizeUser for Single<'_, C, DECRYPT> {
    type BlockSize = U16;
}

impl<C, const DECRYPT: bool> BlockCipherEncClosure for Single<'_, C, DECRYPT> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        lanes::<C, B, 1, DECRYPT>(self.ff1, backend, self.xs);
    }
}

/// Many independent FF1 evaluations in one call into the backend (so the
/// backend's set-up is paid once per batch), interleaved [`BATCH_LANES`]
/// at a time (then 4, 2, 1 for the tail): each Feistel round hands the
/// backend that many independent blocks, which it pipelines.
pub(super) struct Feistel<'a, C, const DECRYPT: bool> {
    pub(super) ff1: &'a Ff1<C>,
    pub(super) xs: &'a mut [u64],
}

impl<C, const DECRYPT: bool> BlockSizeUser for Feistel<'_, C, DECRYPT> {
    type BlockSize = U16;
}

impl<C, const DECRYPT: bool> BlockCipherEncClosure for Feistel<'_, C, DECRYPT> {
    #[inline(always)]
    fn call<B: BlockCipherEncBackend<BlockSize = U16>>(self, backend: &B) {
        let Feistel { ff1, xs } = self;
        // Backends that encrypt many blocks per instruction sequence
        // (VAES-256: 30, VAES-512: 64) only do so for a full set of
        // parallel blocks: give them that many lanes.
        let xs = if B::ParBlocksSize::USIZE >= 16 {
            let (chunks, rest) = xs.as_chunks_mut::<WIDE_LANES>();
            for c in chunks {
                wide_lanes::<C, B, DECRYPT>(ff1, backend, c);
            }
            rest
        } else {
            xs
        };
        let (chunks, rest) = xs.as_chunks_mut::<BATCH_LANES>();
        for c in chunks {
            lanes::<C, B, BATCH_LANES, DECRYPT>(ff1, backend, c);
        }
        let (chunks, rest) = rest.as_chunks_mut::<4>();
        for c in chunks {
            lanes::<C, B, 4, DECRYPT>(ff1, backend, c);
        }
        let (chunks, rest) = rest.as_chunks_mut::<2>();
        for c in chunks {
            lanes::<C, B, 2, DECRYPT>(ff1, backend, c);
        }
        let (chunks, _) = rest.as_chunks_mut::<1>();
        for c in chunks {
            lanes::<C, B, 1, DECRYPT>(ff1, backend, c);
        }
    }
}

/// [`lanes`] with [`WIDE_LANES`] lanes, out of line: its 2 KiB of lane
/// state is on the stack only while it runs (never, with the software or
/// plain AES-NI backends).
#[inline(never)]
fn wide_lanes<C, B, const DECRYPT: bool>(ff1: &Ff1<C>, backend: &B, xs: &mut [u64; WIDE_LANES])
where
    B: BlockCipherEncBackend<BlockSize = U16>,
{
    lanes::<C, B, WIDE_LANES, DECRYPT>(ff1, backend, xs);
}

/// Encrypts `blocks` in place on `backend`, in the backend's parallel
/// chunks and then one by one (what `encrypt_blocks` does, without
/// re-entering the dispatch).
#[inline(always)]
fn encrypt_blocks_on<B: BlockCipherEncBackend<BlockSize = U16>>(backend: &B, blocks: &mut [Block]) {
    if B::ParBlocksSize::USIZE > 1 {
        let (chunks, tail) = Array::<Block, B::ParBlocksSize>::slice_as_chunks_mut(blocks);
        for chunk in chunks {
            backend.encrypt_par_blocks_inplace(chunk);
        }
        backend.encrypt_tail_blocks_inplace(tail);
    } else {
        for block in blocks {
            backend.encrypt_block_inplace(block);
        }
    }
}
