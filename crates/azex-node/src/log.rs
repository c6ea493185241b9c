//! The append-only block log: the node's source of truth.
//!
//! File `blocks.log`: a sequence of records `magic u32 | len u32 | crc32 u32 | payload`, one per
//! block (heights 1, 2, … in order), little-endian. Appends are buffered and made durable by one
//! `sync` (fsync) per block (group commit: every transaction of the block shares it). On open the
//! file is scanned: a torn or corrupt tail (a crash in the middle of an append) is cut off —
//! nothing after the last fully written, checksummed record was ever acknowledged.
//!
//! The node talks to the log through [`BlockLog`], so a replicated log can stand in later.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

const MAGIC: u32 = 0x4258_5A41; // "AZXB"
/// Bytes of a record header: magic, length, crc32.
const HEADER_LEN: usize = 12;
const HEADER: u64 = HEADER_LEN as u64;
/// Refuse records larger than this (a corrupt length must not allocate gigabytes).
pub const MAX_RECORD: u32 = 512 << 20;

/// Where blocks are kept durably.
pub trait BlockLog: Send {
    /// Append one record (block `len() + 1`); not durable until [`BlockLog::sync`].
    fn append(&mut self, payload: &[u8]) -> io::Result<()>;
    /// Make every appended record durable.
    fn sync(&mut self) -> io::Result<()>;
    /// Number of records (durable or appended).
    fn len(&self) -> u64;
    /// Whether the log holds no record.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A reader usable from other threads.
    fn reader(&self) -> Arc<dyn LogReader>;
}

/// Random access to records (0-based index = height − 1).
pub trait LogReader: Send + Sync {
    /// The payload of record `index` (`None`: no such record).
    fn read(&self, index: u64) -> io::Result<Option<Vec<u8>>>;
    /// Number of records.
    fn len(&self) -> u64;
    /// Whether the log holds no record.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What opening the log found.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// Valid records found (blocks 1 to `records`).
    pub records: u64,
    /// Bytes cut off the tail (torn write).
    pub truncated_bytes: u64,
}

/// The file log.
pub struct FileLog {
    w: BufWriter<File>,
    offsets: Arc<RwLock<Vec<(u64, u32)>>>,
    end: u64,
    path: PathBuf,
}

struct FileReader {
    path: PathBuf,
    file: File,
    offsets: Arc<RwLock<Vec<(u64, u32)>>>,
}

fn read_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl FileLog {
    /// Open (or create) `dir/blocks.log`, cutting a torn tail.
    pub fn open(dir: &Path) -> io::Result<(Self, OpenReport)> {
        let path = dir.join("blocks.log");
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        let size = f.metadata()?.len();
        let mut offsets = Vec::new();
        let mut pos = 0u64;
        let mut r = io::BufReader::with_capacity(1 << 20, &mut f);
        let mut hdr = [0u8; HEADER_LEN];
        let mut buf = Vec::new();
        loop {
            if pos + HEADER > size {
                break;
            }
            if r.read_exact(&mut hdr).is_err() {
                break;
            }
            let (magic, len, crc) = (read_u32(&hdr), read_u32(&hdr[4..]), read_u32(&hdr[8..]));
            if magic != MAGIC || len > MAX_RECORD || pos + HEADER + u64::from(len) > size {
                break;
            }
            buf.resize(len as usize, 0);
            if r.read_exact(&mut buf).is_err() || crc32fast::hash(&buf) != crc {
                break;
            }
            offsets.push((pos + HEADER, len));
            pos += HEADER + u64::from(len);
        }
        drop(r);
        let report = OpenReport {
            records: offsets.len() as u64,
            truncated_bytes: size - pos,
        };
        if pos < size {
            f.set_len(pos)?;
            f.sync_all()?;
        }
        f.seek(SeekFrom::Start(pos))?;
        Ok((
            FileLog {
                w: BufWriter::with_capacity(1 << 20, f),
                offsets: Arc::new(RwLock::new(offsets)),
                end: pos,
                path,
            },
            report,
        ))
    }
}

impl BlockLog for FileLog {
    fn append(&mut self, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len())
            .ok()
            .filter(|l| *l <= MAX_RECORD)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "record too large"))?;
        let mut hdr = [0u8; HEADER_LEN];
        hdr[..4].copy_from_slice(&MAGIC.to_le_bytes());
        hdr[4..8].copy_from_slice(&len.to_le_bytes());
        hdr[8..].copy_from_slice(&crc32fast::hash(payload).to_le_bytes());
        self.w.write_all(&hdr)?;
        self.w.write_all(payload)?;
        let off = self.end + HEADER;
        self.end = off + u64::from(len);
        self.offsets
            .write()
            .map_err(|_| io::Error::other("poisoned"))?
            .push((off, len));
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        self.w.flush()?;
        self.w.get_ref().sync_data()
    }

    fn len(&self) -> u64 {
        self.offsets.read().map(|o| o.len() as u64).unwrap_or(0)
    }

    fn reader(&self) -> Arc<dyn LogReader> {
        let file = File::open(&self.path).expect("log file exists");
        Arc::new(FileReader {
            path: self.path.clone(),
            file,
            offsets: self.offsets.clone(),
        })
    }
}

impl LogReader for FileReader {
    fn read(&self, index: u64) -> io::Result<Option<Vec<u8>>> {
        let offsets = self
            .offsets
            .read()
            .map_err(|_| io::Error::other("poisoned"))?;
        // An index beyond `usize` is beyond any record held.
        let (off, len) = match usize::try_from(index).ok().and_then(|i| offsets.get(i)) {
            Some(x) => *x,
            None => return Ok(None),
        };
        drop(offsets); // not held during the read: appends take the write lock
        let mut buf = vec![0u8; len as usize];
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileExt;
            self.file.read_exact_at(&mut buf, off)?;
        }
        #[cfg(not(unix))]
        {
            let mut f = File::open(&self.path)?;
            f.seek(SeekFrom::Start(off))?;
            f.read_exact(&mut buf)?;
        }
        let _ = &self.path;
        Ok(Some(buf))
    }

    fn len(&self) -> u64 {
        self.offsets.read().map(|o| o.len() as u64).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("azex-log-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn append_reopen_and_torn_tail() {
        let d = tmp("torn");
        {
            let (mut l, r) = FileLog::open(&d).unwrap();
            assert_eq!(r.records, 0);
            for i in 0..10u8 {
                l.append(&vec![i; 100 + i as usize]).unwrap();
            }
            l.sync().unwrap();
            let rd = l.reader();
            assert_eq!(rd.read(3).unwrap().unwrap(), vec![3u8; 103]);
            assert!(rd.read(10).unwrap().is_none());
        }
        // A torn append: half a record at the end.
        let p = d.join("blocks.log");
        let full = std::fs::read(&p).unwrap();
        let mut torn = full.clone();
        torn.extend_from_slice(&MAGIC.to_le_bytes());
        torn.extend_from_slice(&50u32.to_le_bytes());
        torn.extend_from_slice(&[1, 2, 3]);
        std::fs::write(&p, &torn).unwrap();
        let (mut l, r) = FileLog::open(&d).unwrap();
        assert_eq!(r.records, 10);
        assert_eq!(r.truncated_bytes, 11);
        l.append(b"after").unwrap();
        l.sync().unwrap();
        assert_eq!(l.reader().read(10).unwrap().unwrap(), b"after");
        drop(l);
        // A flipped bit in the last record: it is cut, the others stay.
        let mut bad = std::fs::read(&p).unwrap();
        let n = bad.len();
        bad[n - 1] ^= 1;
        std::fs::write(&p, &bad).unwrap();
        let (l, r) = FileLog::open(&d).unwrap();
        assert_eq!(r.records, 10);
        assert_eq!(l.len(), 10);
        let _ = std::fs::remove_dir_all(&d);
    }
}
