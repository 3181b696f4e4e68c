//! Interned mapping keys. The keys of configuration files repeat (`apiVersion`, `Type`, `name`,
//! `Properties`…), so each distinct key is kept once for the whole run instead of once per map:
//! a map's key is then a CEL string borrowing the shared text, with no allocation of its own.
//!
//! A key is a handle ([`Key`], one pointer) to a CEL string, so that a map member spends 8 bytes
//! on its key rather than the 24 of a CEL string. Each thread keeps one handle per shared key
//! (its count is touched by that thread only while it builds maps).
//!
//! CEL strings borrow `'static` text, so the shared text lives as long as the process. It is
//! bounded: keys longer than [`MAX_KEY`] bytes, and every new key once [`BUDGET`] bytes of keys
//! are held, are owned by their map as before. Which keys are shared changes no value, only
//! where its bytes are.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use cel::common::types::CelString;

/// Longest key that is shared, in bytes.
pub const MAX_KEY: usize = 64;

/// Most bytes of key text shared in one process.
pub const BUDGET: usize = 1 << 20;

type Hasher = foldhash::fast::FixedState;

/// The keys shared so far, and their bytes.
struct Table {
    keys: HashSet<&'static str, Hasher>,
    bytes: usize,
}

static TABLE: Mutex<Table> = Mutex::new(Table {
    keys: HashSet::with_hasher(Hasher::with_seed(0)),
    bytes: 0,
});

/// A map key: a shared handle to a CEL string (one pointer).
pub type Key = Arc<CelString<'static>>;

thread_local! {
    /// The keys this thread has met in [`TABLE`], looked up without its lock, each with this
    /// thread's handle to it.
    static SEEN: RefCell<HashMap<&'static str, Key, Hasher>> = RefCell::new(HashMap::default());
}

/// `key` as a map key: the shared copy when there is (or may now be) one, else `key` itself.
pub fn intern(key: String) -> Key {
    shared(&key, || key.clone()).unwrap_or_else(|| Arc::new(CelString::from(key)))
}

/// `key` as a map key, copied only when it is not shared.
pub fn intern_str(key: &str) -> Key {
    shared(key, || key.to_string()).unwrap_or_else(|| Arc::new(CelString::from(key.to_string())))
}

/// A handle to the shared copy of `key`, adding it (made by `owned`) while the budget allows.
fn shared(key: &str, owned: impl FnOnce() -> String) -> Option<Key> {
    if key.len() > MAX_KEY {
        return None;
    }
    if let Some(k) = SEEN.with(|seen| seen.borrow().get(key).cloned()) {
        return Some(k);
    }
    let s = {
        let mut table = TABLE.lock().unwrap_or_else(PoisonError::into_inner);
        match table.keys.get(key) {
            Some(s) => *s,
            None => {
                if table.bytes + key.len() > BUDGET {
                    return None;
                }
                table.bytes += key.len();
                let s: &'static str = Box::leak(owned().into_boxed_str());
                table.keys.insert(s);
                s
            }
        }
    };
    let k: Key = Arc::new(CelString::from(s));
    SEEN.with(|seen| seen.borrow_mut().insert(s, Arc::clone(&k)));
    Some(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_shared_and_keeps_its_text() {
        let a = intern("apiVersion".to_string());
        let b = intern_str("apiVersion");
        assert_eq!(a.inner(), "apiVersion");
        assert_eq!(a, b);
        let (Some(x), Some(y)) = (a.as_borrowed(), b.as_borrowed()) else {
            panic!("a short key is shared");
        };
        assert!(std::ptr::eq(x, y), "one copy of the text");
    }

    #[test]
    fn the_empty_key_and_unicode_keys_are_kept_exactly() {
        assert_eq!(intern(String::new()).inner(), "");
        assert_eq!(intern_str("clé→ü").inner(), "clé→ü");
    }

    #[test]
    fn a_long_key_is_owned_by_its_map() {
        let long = "k".repeat(MAX_KEY + 1);
        let key = intern(long.clone());
        assert_eq!(key.inner(), long);
        assert!(key.as_borrowed().is_none());
        let just = "j".repeat(MAX_KEY);
        assert!(intern_str(&just).as_borrowed().is_some());
    }

    #[test]
    fn the_same_key_is_shared_across_threads() {
        let here = intern_str("threadShared").as_borrowed().expect("shared");
        let there = std::thread::spawn(|| intern_str("threadShared").as_borrowed())
            .join()
            .expect("thread")
            .expect("shared");
        assert!(std::ptr::eq(here, there));
    }
}
