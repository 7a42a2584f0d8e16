//! Where OAuth tokens live between restarts. A trait, so that a store shared by several
//! instances can replace the file; the file store is the default.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The operator's OAuth tokens.
#[derive(Clone)]
pub struct OAuthTokens {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// Unix seconds when the access token runs out.
    pub expires_at: i64,
}

impl std::fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("token store {path}: {reason}")]
pub struct StoreError {
    pub path: String,
    pub reason: String,
}

/// Keeps the operator's OAuth tokens.
#[async_trait::async_trait]
pub trait TokenStore: Send + Sync + 'static {
    /// The stored tokens, `None` when nothing was stored yet.
    async fn load(&self) -> Result<Option<OAuthTokens>, StoreError>;
    /// Replaces the stored tokens; either the old or the new tokens survive a crash.
    async fn save(&self, tokens: &OAuthTokens) -> Result<(), StoreError>;
}

/// The file layout: plain JSON, readable by its owner only.
#[derive(Serialize, Deserialize)]
struct TokenFile {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_at: i64,
}

/// Tokens in a JSON file, mode 0600, replaced atomically (temporary file + rename).
pub struct FileTokenStore {
    path: PathBuf,
}

impl FileTokenStore {
    /// A store at `path` (its folder is created when the first tokens are saved).
    pub fn new(path: &Path) -> Self {
        FileTokenStore {
            path: path.to_owned(),
        }
    }

    fn error(&self, reason: impl std::fmt::Display) -> StoreError {
        StoreError {
            path: self.path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    fn load_blocking(&self) -> Result<Option<OAuthTokens>, StoreError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(format!("cannot read ({e})"))),
        };
        let file: TokenFile = serde_json::from_str(&text).map_err(|e| {
            self.error(format!(
                "corrupt ({e}); delete it and connect again at /oauth/connect"
            ))
        })?;
        Ok(Some(OAuthTokens {
            access_token: SecretString::from(file.access_token),
            refresh_token: file.refresh_token.map(SecretString::from),
            expires_at: file.expires_at,
        }))
    }

    fn save_blocking(&self, tokens: &OAuthTokens) -> Result<(), StoreError> {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| self.error(format!("cannot create its folder ({e})")))?;
        let json = serde_json::to_vec_pretty(&TokenFile {
            access_token: tokens.access_token.expose_secret().to_owned(),
            refresh_token: tokens
                .refresh_token
                .as_ref()
                .map(|t| t.expose_secret().to_owned()),
            expires_at: tokens.expires_at,
        })
        .map_err(|e| self.error(e))?;
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "tokens.json".to_owned());
        // A fresh, unguessable name, created only if nothing (not even a symlink) is
        // there: whoever can write to the folder cannot make us write the tokens
        // through a link they planted.
        let temp = dir.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            std::fs::rename(&temp, &self.path)?;
            // The rename itself must reach the disk too.
            std::fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&temp);
            self.error(format!("cannot write ({e})"))
        })
    }
}

#[async_trait::async_trait]
impl TokenStore for FileTokenStore {
    async fn load(&self) -> Result<Option<OAuthTokens>, StoreError> {
        self.load_blocking()
    }

    async fn save(&self, tokens: &OAuthTokens) -> Result<(), StoreError> {
        // A small local file: writing it inline is cheaper than a thread hop.
        self.save_blocking(tokens)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn tokens(access: &str) -> OAuthTokens {
        OAuthTokens {
            access_token: SecretString::from(access.to_owned()),
            refresh_token: Some(SecretString::from("refresh".to_owned())),
            expires_at: 1_900_000_000,
        }
    }

    #[tokio::test]
    async fn tokens_survive_a_restart_in_a_private_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/tokens.json");
        let store = FileTokenStore::new(&path);
        assert!(store.load().await.unwrap().is_none(), "nothing stored yet");
        store.save(&tokens("first")).await.unwrap();
        store.save(&tokens("second")).await.unwrap();

        let again = FileTokenStore::new(&path).load().await.unwrap().unwrap();
        assert_eq!(again.access_token.expose_secret(), "second");
        assert_eq!(again.expires_at, 1_900_000_000);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[tokio::test]
    async fn a_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::fs::write(&path, "{not json").unwrap();
        let err = FileTokenStore::new(&path).load().await.unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
        assert!(err.to_string().contains("tokens.json"), "{err}");
    }

    #[tokio::test]
    async fn h15_a_planted_symlink_never_receives_the_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "precious").unwrap();
        // Where the temporary file used to be: a predictable name.
        let planted = dir
            .path()
            .join(format!(".tokens.json.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let path = dir.path().join("tokens.json");
        let store = FileTokenStore::new(&path);
        store.save(&tokens("AT-1")).await.unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&path).unwrap().is_symlink());
        let loaded = store.load().await.unwrap().unwrap();
        assert_eq!(loaded.access_token.expose_secret(), "AT-1");
    }

    #[test]
    fn readers_never_see_a_half_written_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let store = FileTokenStore::new(&path);
        store.save_blocking(&tokens("t0")).unwrap();
        let writer = {
            let path = path.clone();
            std::thread::spawn(move || {
                let store = FileTokenStore::new(&path);
                for i in 0..300 {
                    store
                        .save_blocking(&tokens(&format!("t{i}-{}", "x".repeat(i * 10))))
                        .unwrap();
                }
            })
        };
        let mut reads = 0;
        while !writer.is_finished() {
            let loaded = store.load_blocking().expect("always a whole file");
            assert!(loaded.is_some());
            reads += 1;
        }
        writer.join().unwrap();
        assert!(reads > 0);
    }
}
