//! Every room key roomgate has seen, with its vendor id, kept across restarts.
//!
//! The vendor has no lookup by key, and a listing may not hold every room: an unscoped
//! listing may hold active rooms only (the default `scope` is undocumented) and `page` may
//! be ignored. A room that drops out of the listing would then answer 404 instead of 410
//! and be out of the operators' reach (`rooms activate`). So the directory remembers
//! key → id for every room it lists, asks this memory for keys the listing lacks, and
//! checks each answer with `GET widgets/{id}`.
//!
//! A trait, so that a memory shared by several instances (Redis, in fleet mode) can
//! replace the file; the file beside the token file is the default.

use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
    path::{Path, PathBuf},
    sync::Mutex,
};

use serde::{Deserialize, Serialize};

/// The file's name, in the folder of `api.token_file`.
pub const FILE_NAME: &str = "room-keys.json";

/// The most keys remembered; past it the longest-remembered are forgotten first.
pub const CAPACITY: usize = 100_000;

/// Remembers room keys and their vendor ids. Keeping them is best effort: a memory that
/// cannot persist logs why and goes on from what it holds.
#[async_trait::async_trait]
pub trait KnownKeys: Send + Sync + 'static {
    /// The vendor id remembered for `license`.
    async fn get(&self, license: &str) -> Option<u64>;
    /// Remembers each (key, id) of `rooms`; a newer id for a key replaces the older.
    async fn remember(&self, rooms: &[(String, u64)]);
    /// Forgets `license`: its id now belongs to another key.
    async fn forget(&self, license: &str);
}

/// Why the memory's file cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("room key memory {path}: {reason}")]
pub struct KnownKeysError {
    pub path: String,
    pub reason: String,
}

/// Where the file lives: beside `token_file` (in the working folder when it has none).
pub fn path_beside(token_file: &Path) -> PathBuf {
    token_file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(FILE_NAME)
}

/// Keys and ids, bounded: the in-memory part of every implementation.
#[derive(Debug)]
pub struct KeyMemory {
    capacity: usize,
    /// Key → (id, when it was remembered).
    ids: HashMap<String, (u64, u64)>,
    /// When → key, oldest first: who is forgotten when the memory is full.
    order: BTreeMap<u64, String>,
    next: u64,
}

impl KeyMemory {
    /// An empty memory of at most `capacity` keys.
    pub fn new(capacity: usize) -> Self {
        KeyMemory {
            capacity: capacity.max(1),
            ids: HashMap::new(),
            order: BTreeMap::new(),
            next: 0,
        }
    }

    /// The id remembered for `key`.
    pub fn get(&self, key: &str) -> Option<u64> {
        self.ids.get(key).map(|(id, _)| *id)
    }

    /// Remembers `key` → `id`; whether anything changed. A key seen again with the same
    /// id keeps its place: listings repeat every key, and rewriting the order each time
    /// would rewrite the file each time.
    pub fn remember(&mut self, key: &str, id: u64) -> bool {
        if self.get(key) == Some(id) {
            return false;
        }
        self.forget(key);
        let at = self.next;
        self.next += 1;
        self.ids.insert(key.to_owned(), (id, at));
        self.order.insert(at, key.to_owned());
        while self.ids.len() > self.capacity {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.ids.remove(&oldest);
        }
        true
    }

    /// Forgets `key`; whether it was remembered.
    pub fn forget(&mut self, key: &str) -> bool {
        match self.ids.remove(key) {
            Some((_, at)) => {
                self.order.remove(&at);
                true
            }
            None => false,
        }
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Every (key, id), longest-remembered first.
    pub fn entries(&self) -> Vec<(String, u64)> {
        self.order
            .values()
            .filter_map(|key| Some((key.clone(), self.get(key)?)))
            .collect()
    }
}

/// The file layout: pairs of key and id, longest-remembered first, so that a restart
/// keeps the order in which keys are forgotten.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    rooms: Vec<(String, u64)>,
}

/// What the file holds and how writing it goes.
#[derive(Debug, Default)]
struct Saved {
    /// The version of the memory last written.
    version: u64,
    /// The last write failed (logged once until a write succeeds again).
    failing: bool,
}

/// The memory in a JSON file (`room-keys.json`, mode 0600), replaced atomically on every
/// change (temporary file + rename), as the token file is.
pub struct FileKnownKeys {
    path: PathBuf,
    /// The keys and a version counted up on every change.
    memory: Mutex<(KeyMemory, u64)>,
    /// One write at a time, each writing the latest memory.
    saved: tokio::sync::Mutex<Saved>,
}

impl FileKnownKeys {
    /// The memory kept at `path`: what the file holds (nothing when there is no file),
    /// at most `capacity` keys. A file that cannot be read stops start-up, like a corrupt
    /// token file: starting empty would overwrite it.
    pub fn open(path: &Path, capacity: usize) -> Result<Self, KnownKeysError> {
        let error = |reason: String| KnownKeysError {
            path: path.display().to_string(),
            reason,
        };
        let mut memory = KeyMemory::new(capacity);
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let file: KeyFile = serde_json::from_str(&text).map_err(|e| {
                    error(format!(
                        "corrupt ({e}); delete it (rooms that are no longer listed then \
                         answer 404 until they are listed again)"
                    ))
                })?;
                for (key, id) in file.rooms {
                    memory.remember(&key, id);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(error(format!("cannot read ({e})"))),
        }
        Ok(FileKnownKeys {
            path: path.to_owned(),
            memory: Mutex::new((memory, 0)),
            saved: tokio::sync::Mutex::new(Saved::default()),
        })
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.lock().0.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (KeyMemory, u64)> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Changes the memory with `change`; writes the file when it reports a change.
    async fn change(&self, change: impl FnOnce(&mut KeyMemory) -> bool) {
        {
            let mut memory = self.lock();
            if !change(&mut memory.0) {
                return;
            }
            memory.1 += 1;
        }
        self.save().await;
    }

    /// Writes the latest memory unless a write since the last change did.
    async fn save(&self) {
        let mut saved = self.saved.lock().await;
        let (version, json) = {
            let memory = self.lock();
            if memory.1 == saved.version {
                return;
            }
            let file = KeyFile {
                rooms: memory.0.entries(),
            };
            (memory.1, serde_json::to_vec(&file))
        };
        let path = self.path.clone();
        let written = match json {
            Ok(json) => tokio::task::spawn_blocking(move || write_atomically(&path, &json))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e))),
            Err(e) => Err(std::io::Error::other(e)),
        };
        match written {
            Ok(()) => {
                saved.version = version;
                saved.failing = false;
            }
            Err(e) => {
                if !saved.failing {
                    tracing::warn!(path = %self.path.display(), error = %e, "cannot write the room key memory; keys are remembered until the next restart only");
                }
                saved.failing = true;
            }
        }
    }
}

#[async_trait::async_trait]
impl KnownKeys for FileKnownKeys {
    async fn get(&self, license: &str) -> Option<u64> {
        self.lock().0.get(license)
    }

    async fn remember(&self, rooms: &[(String, u64)]) {
        self.change(|memory| {
            rooms.iter().fold(false, |changed, (key, id)| {
                memory.remember(key, *id) || changed
            })
        })
        .await;
    }

    async fn forget(&self, license: &str) {
        self.change(|memory| memory.forget(license)).await;
    }
}

/// Replaces `path` with `bytes` so that readers see the old or the new file, never half
/// of one: a fresh temporary file (created only if nothing, not even a symlink, is
/// there), synced, renamed over, and the rename synced.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| FILE_NAME.to_owned());
    let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)?;
        std::fs::File::open(dir)?.sync_all()
    };
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&temp);
    })
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn pairs(range: std::ops::Range<u64>) -> Vec<(String, u64)> {
        range.map(|i| (format!("100-000-{i:03}"), i)).collect()
    }

    #[test]
    fn a_full_memory_forgets_the_longest_remembered_key_first() {
        let mut memory = KeyMemory::new(3);
        for (key, id) in pairs(0..3) {
            assert!(memory.remember(&key, id));
        }
        assert!(!memory.remember("100-000-000", 0), "seen again: no change");
        assert!(memory.remember("100-000-003", 3));
        assert_eq!(memory.len(), 3);
        assert_eq!(memory.get("100-000-000"), None, "the oldest went");
        assert!(memory.remember("100-000-001", 11), "a new id moves it last");
        assert!(memory.remember("100-000-004", 4));
        assert_eq!(memory.get("100-000-001"), Some(11));
        assert_eq!(memory.get("100-000-002"), None);
        assert_eq!(
            memory.entries(),
            [
                ("100-000-003".to_owned(), 3),
                ("100-000-001".to_owned(), 11),
                ("100-000-004".to_owned(), 4)
            ]
        );
        assert!(memory.forget("100-000-003"));
        assert!(!memory.forget("100-000-003"));
        assert_eq!(memory.len(), 2);
    }

    #[tokio::test]
    async fn keys_survive_a_restart_in_a_private_file_beside_the_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_beside(&dir.path().join("data/tokens.json"));
        assert_eq!(path, dir.path().join("data/room-keys.json"));
        let memory = FileKnownKeys::open(&path, 10).unwrap();
        assert!(memory.is_empty(), "no file yet: nothing remembered");
        memory.remember(&pairs(0..5)).await;
        memory.forget("100-000-001").await;

        let again = FileKnownKeys::open(&path, 10).unwrap();
        assert_eq!(again.len(), 4);
        assert_eq!(again.get("100-000-004").await, Some(4));
        assert_eq!(again.get("100-000-001").await, None);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let files: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(files.len(), 1, "no temporary file is left behind");

        let smaller = FileKnownKeys::open(&path, 2).unwrap();
        assert_eq!(smaller.len(), 2, "a smaller capacity keeps the newest");
        assert_eq!(smaller.get("100-000-004").await, Some(4));
    }

    #[tokio::test]
    async fn a_corrupt_file_is_a_clear_error_and_an_unwritable_folder_is_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, "{not json").unwrap();
        let err = FileKnownKeys::open(&path, 10).err().unwrap().to_string();
        assert!(err.contains("corrupt") && err.contains(FILE_NAME), "{err}");

        // The folder cannot be created: a file has its name.
        let blocked = dir.path().join("not-a-folder");
        let memory = FileKnownKeys::open(&blocked.join(FILE_NAME), 10).unwrap();
        std::fs::write(&blocked, "").unwrap();
        memory.remember(&pairs(0..2)).await;
        assert_eq!(
            memory.get("100-000-001").await,
            Some(1),
            "kept in memory all the same"
        );
    }

    #[test]
    fn a_token_file_without_a_folder_puts_the_memory_in_the_working_folder() {
        assert_eq!(
            path_beside(Path::new("tokens.json")),
            Path::new(".").join(FILE_NAME)
        );
    }
}
