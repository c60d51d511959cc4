//! Checkpoints: a run's merged prefix in a small, versioned, checksummed
//! byte format, so a long run can be resumed with the same final bits.

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;

/// The first bytes of every checkpoint.
const MAGIC: &[u8; 4] = b"QPCK";

/// The format's version; a reader refuses any other. Version 3 added the
/// integrand's probe values.
const VERSION: u16 = 3;

/// Integrand values a checkpoint keeps, at fixed points of the domain, so
/// that a resume with another integrand is refused (`spec::probe`).
pub(crate) const PROBES: usize = 2;

/// Bytes before the method's state: magic, version, kind, a reserved byte,
/// then fingerprint, seed, samples, chunk size, pass, next chunk, units
/// done and the probe values' bits as u64, and the state's length as u32.
const HEADER: usize = 4 + 2 + 1 + 1 + (7 + PROBES) * 8 + 4;

/// The CRC-32 at the end.
const TRAILER: usize = 4;

/// A snapshot of a run: which spec it belongs to, how far it got, and the
/// merged state of the chunks before that point.
///
/// Get one from a running task ([`Task::checkpoint`](crate::Task::checkpoint)),
/// or have a run write one every few chunks
/// ([`Integral::checkpoint_every`](crate::Integral::checkpoint_every));
/// continue with [`Integral::resume`](crate::Integral::resume). The resumed
/// run's final estimate has the same bits as a run that was never stopped.
///
/// The bytes are versioned and end in a CRC-32, so a truncated or
/// corrupted checkpoint is refused ([`Error::CheckpointCorrupt`]), as is one
/// from another spec ([`Error::CheckpointMismatch`]) or from an integrand
/// that gave other values at two fixed points of the domain
/// ([`Error::CheckpointIntegrand`]).
///
/// # Examples
///
/// ```
/// use quadpipe::{Checkpoint, Executor, Integral};
///
/// let executor = Executor::builder().threads(2).build()?;
/// let integral = Integral::new(f64::exp, 0.0..1.0).samples(1 << 22).chunk_size(1 << 16).id("exp");
/// let task = integral.spawn_on(&executor);
/// while task.progress().done < 1 << 20 {
///     std::thread::yield_now();
/// }
/// task.cancel();
/// let saved = task.checkpoint().expect("chunks were merged");
///
/// // Later, perhaps in another process:
/// let bytes = saved.as_bytes().to_vec();
/// let resumed = integral.resume(&Checkpoint::from_bytes(bytes)?);
/// let uninterrupted = pollster::block_on(integral.run_on(&executor))?;
/// assert_eq!(pollster::block_on(resumed.run_on(&executor))?, uninterrupted);
/// # Ok::<(), quadpipe::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Checkpoint {
    bytes: Arc<[u8]>,
}

/// What a checkpoint says about the run it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    /// Which method's state follows.
    pub(crate) kind: u8,
    /// A hash of everything in the spec that decides the bits but the
    /// fields stored on their own.
    pub(crate) fingerprint: u64,
    pub(crate) seed: u64,
    pub(crate) samples: u64,
    pub(crate) chunk_size: u64,
    /// How many passes of the method were finished before the one saved.
    pub(crate) pass: u64,
    /// How many chunks of that pass were merged: the first chunk a resumed
    /// run draws.
    pub(crate) next_chunk: u64,
    /// Units of work (integrand evaluations) done by the whole run.
    pub(crate) done: u64,
    /// The bits of the integrand's values at the probe points.
    pub(crate) probes: [u64; PROBES],
}

impl Checkpoint {
    /// Builds a checkpoint from a header and a method's encoded state.
    pub(crate) fn new(header: &Header, state: &[u8]) -> Checkpoint {
        let mut bytes = Vec::with_capacity(HEADER + state.len() + TRAILER);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.push(header.kind);
        bytes.push(0);
        for field in [
            header.fingerprint,
            header.seed,
            header.samples,
            header.chunk_size,
            header.pass,
            header.next_chunk,
            header.done,
        ]
        .iter()
        .chain(&header.probes)
        {
            bytes.extend_from_slice(&field.to_le_bytes());
        }
        let length = u32::try_from(state.len()).expect("a method's state is small");
        bytes.extend_from_slice(&length.to_le_bytes());
        bytes.extend_from_slice(state);
        let crc = crc32(&bytes);
        bytes.extend_from_slice(&crc.to_le_bytes());
        Checkpoint {
            bytes: bytes.into(),
        }
    }

    /// Checks bytes read back from storage and wraps them.
    ///
    /// # Errors
    ///
    /// [`Error::CheckpointCorrupt`] if they are truncated, not a checkpoint,
    /// of another format version, or fail the checksum.
    ///
    /// # Examples
    ///
    /// ```
    /// use quadpipe::{Checkpoint, Error};
    ///
    /// let err = Checkpoint::from_bytes(b"not a checkpoint".to_vec()).unwrap_err();
    /// assert!(matches!(err, Error::CheckpointCorrupt { .. }));
    /// ```
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Checkpoint, Error> {
        let bytes: Vec<u8> = bytes.into();
        let corrupt = |reason| Error::CheckpointCorrupt { reason };
        if bytes.len() < HEADER + TRAILER {
            return Err(corrupt("it is shorter than any checkpoint"));
        }
        if &bytes[..4] != MAGIC {
            return Err(corrupt("it does not start with QPCK"));
        }
        let (body, trailer) = bytes.split_at(bytes.len() - TRAILER);
        if crc32(body) != u32::from_le_bytes(trailer.try_into().expect("4 bytes")) {
            return Err(corrupt("its checksum does not match: truncated or changed"));
        }
        if u16::from_le_bytes([bytes[4], bytes[5]]) != VERSION {
            return Err(corrupt("it is of another format version"));
        }
        let length = u32::from_le_bytes(bytes[HEADER - 4..HEADER].try_into().expect("4 bytes"));
        if HEADER + length as usize + TRAILER != bytes.len() {
            return Err(corrupt("its length does not match its contents"));
        }
        Ok(Checkpoint {
            bytes: bytes.into(),
        })
    }

    /// The bytes, to store anywhere.
    ///
    /// # Examples
    ///
    /// ```
    /// let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// let integral = quadpipe::Integral::new(|x| x, 0.0..1.0).samples(1 << 17).chunk_size(1 << 16);
    /// let mut task = integral.spawn_on(&executor);
    /// executor.block_on(&mut task)?;
    /// let checkpoint = task.checkpoint().unwrap();
    /// let copy = quadpipe::Checkpoint::from_bytes(checkpoint.as_bytes().to_vec())?;
    /// assert_eq!(copy, checkpoint);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// How many samples the checkpointed prefix holds (including any
    /// skipped as non-finite).
    ///
    /// # Examples
    ///
    /// ```
    /// # let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// let mut task = quadpipe::Integral::new(|x| x, 0.0..1.0).samples(1 << 17).chunk_size(1 << 16).spawn_on(&executor);
    /// executor.block_on(&mut task)?;
    /// assert_eq!(task.checkpoint().unwrap().samples_done(), 1 << 17);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn samples_done(&self) -> u64 {
        self.header().done
    }

    pub(crate) fn header(&self) -> Header {
        let u64_at =
            |at: usize| u64::from_le_bytes(self.bytes[at..at + 8].try_into().expect("8 bytes"));
        Header {
            kind: self.bytes[6],
            fingerprint: u64_at(8),
            seed: u64_at(16),
            samples: u64_at(24),
            chunk_size: u64_at(32),
            pass: u64_at(40),
            next_chunk: u64_at(48),
            done: u64_at(56),
            probes: std::array::from_fn(|probe| u64_at(64 + 8 * probe)),
        }
    }

    pub(crate) fn state(&self) -> &[u8] {
        &self.bytes[HEADER..self.bytes.len() - TRAILER]
    }

    /// Writes the checkpoint to `path` atomically: to a temporary file next
    /// to it, flushed to disk, then renamed over `path`. A crash or a full
    /// disk mid-write leaves the previous checkpoint at `path` whole.
    ///
    /// The temporary file's name is unique to this call
    /// (`<path>.<process id>-<count>.tmp`, created only if it does not
    /// exist), so writers in several threads or processes may share one
    /// `path`: each rename is atomic, and the file ends up as one of the
    /// checkpoints written, whole. A failed write removes its temporary
    /// file; only a crash between its creation and the rename can leave
    /// one behind, which nothing reads.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if writing, syncing or renaming fails.
    ///
    /// # Examples
    ///
    /// ```
    /// # let executor = quadpipe::Executor::builder().threads(1).build()?;
    /// # let mut task = quadpipe::Integral::new(|x| x, 0.0..1.0).samples(1 << 17).chunk_size(1 << 16).spawn_on(&executor);
    /// # executor.block_on(&mut task)?;
    /// let checkpoint = task.checkpoint().unwrap();
    /// let path = std::env::temp_dir().join("quadpipe-doc.qpck");
    /// checkpoint.write(&path)?;
    /// assert_eq!(quadpipe::Checkpoint::read(&path)?, checkpoint);
    /// # Ok::<(), quadpipe::Error>(())
    /// ```
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        /// Numbers this process's writes, so no two share a temporary file.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let path = path.as_ref();
        let mut temporary = path.as_os_str().to_owned();
        let write = WRITES.fetch_add(1, Ordering::Relaxed);
        temporary.push(format!(".{}-{write}.tmp", std::process::id()));
        let written = (|| -> io::Result<()> {
            // `create_new`: never truncate a file someone else is writing.
            let mut file = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temporary)?;
            file.write_all(&self.bytes)?;
            file.sync_all()?;
            fs::rename(&temporary, path)
        })();
        written.map_err(|err| {
            // Whatever failed, the temporary file is of no use to anyone.
            let _ = fs::remove_file(&temporary);
            Error::Io(Arc::new(err))
        })
    }

    /// Reads and checks a checkpoint written by [`write`](Checkpoint::write).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read; as
    /// [`from_bytes`](Checkpoint::from_bytes) if its contents are not a
    /// valid checkpoint.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = quadpipe::Checkpoint::read("/no/such/checkpoint").unwrap_err();
    /// assert!(matches!(err, quadpipe::Error::Io(_)));
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Checkpoint, Error> {
        let bytes = fs::read(path).map_err(|err| Error::Io(Arc::new(err)))?;
        Checkpoint::from_bytes(bytes)
    }
}

impl fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpoint")
            .field("header", &self.header())
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

/// A field-by-field reader of a method's state, for `decode`: `None` as
/// soon as the bytes run out.
pub(crate) struct StateReader<'a>(pub(crate) &'a [u8]);

impl StateReader<'_> {
    pub(crate) fn u64(&mut self) -> Option<u64> {
        let (field, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*field))
    }

    pub(crate) fn f64(&mut self) -> Option<f64> {
        self.u64().map(f64::from_bits)
    }

    /// A count, a mean and a sum of squared deviations, as an
    /// accumulator (or a tail check, or a hypercube's sums) writes them.
    pub(crate) fn moments(&mut self) -> Option<(u64, f64, f64)> {
        Some((self.u64()?, self.f64()?, self.f64()?))
    }

    /// Whether every byte was read: a state with bytes left over is not one
    /// this version wrote.
    pub(crate) fn is_done(&self) -> bool {
        self.0.is_empty()
    }
}

/// FNV-1a, 64 bits (Fowler, Noll and Vo): the fingerprint of a spec. Not a
/// checksum (that is the CRC's job), only a stable name for the settings.
pub(crate) fn fnv1a(parts: &[&[u8]]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        // The length first, so that ("ab", "c") and ("a", "bc") differ.
        for &byte in (part.len() as u64).to_le_bytes().iter().chain(*part) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320): it detects every
/// error in up to 32 consecutive bits, so every single corrupted byte.
///
/// By `crc32fast`, which folds 64 bytes a step with carry-less
/// multiplication where the CPU has it (PCLMULQDQ, ARMv8 CRC) and through
/// tables elsewhere: the same CRC as bit by bit. A spawned task checksums
/// a checkpoint at every merge, and a VEGAS iteration's is megabytes (its
/// hypercubes' sums): bit by bit, at some 20 cycles a byte, that was 85%
/// of a 2^22-point 5-D VEGAS task's time, and eight bytes a step through
/// tables still 46%.
fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The check value of CRC-32/ISO-HDLC for "123456789".
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    }

    /// The CRC of bit-by-bit CRC-32, for every length up to 300 bytes and
    /// two long ones (`crc32fast` folds 64 bytes a step from 128 bytes
    /// up, and takes the rest apart).
    #[test]
    fn crc32_is_the_bit_by_bit_crc() {
        let by_bits = |bytes: &[u8]| {
            let mut crc = !0u32;
            for &byte in bytes {
                crc ^= u32::from(byte);
                for _ in 0..8 {
                    crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
                }
            }
            !crc
        };
        let bytes: Vec<u8> = (0u32..65_543)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for length in (0..300).chain([4_099, 65_543]) {
            assert_eq!(
                crc32(&bytes[..length]),
                by_bits(&bytes[..length]),
                "{length} bytes"
            );
        }
    }

    #[test]
    fn a_checkpoint_round_trips() {
        let header = Header {
            kind: 1,
            fingerprint: 7,
            seed: 8,
            samples: 9,
            chunk_size: 10,
            pass: 11,
            next_chunk: 12,
            done: 13,
            probes: [14, u64::MAX],
        };
        let checkpoint = Checkpoint::new(&header, &[1, 2, 3]);
        let back = Checkpoint::from_bytes(checkpoint.as_bytes().to_vec()).unwrap();
        assert_eq!(back.header(), header);
        assert_eq!(back.state(), [1, 2, 3]);
    }
}
