//! Long arrays of a pretty-printed JSON report written in parallel batches: the document is
//! serialized with the array empty, and the items are spliced in at its place, serialized on
//! the rayon pool a batch at a time and re-indented to the array's depth, so the bytes are
//! exactly those of serializing the whole document in one go while at most one batch of items
//! exists at once. Used by the JSON report (`findings`) and SARIF (`runs[0].results`).

use std::io::{self, Write};

use rayon::prelude::*;

/// Items serialized together by one thread of the pool.
pub const CHUNK: usize = 256;
/// Items held serialized in memory at once (about 1 to 2 KB each), written before the next.
pub const BATCH: usize = 8 * CHUNK;

/// Writes `head`, a document printed by `serde_json`'s pretty printer whose array is empty,
/// with `count` items in that array, the bytes of printing the document with them.
///
/// `marker` is the empty array's whole line, from the line break before it: `\n`, the key's
/// indentation, `"key": []` (e.g. `\n  "findings": []`). It must occur exactly once in `head`
/// (no JSON string holds a raw line break, so a key's line at its indentation is unique when
/// no other object at that depth has the key). `item(i, buf)` serializes item `i` (`0..count`,
/// in order) into `buf` with `serde_json::to_writer_pretty`; it runs on the pool, `chunk`
/// items to a task, `batch` items at a time.
pub fn write<F>(
    out: &mut dyn Write,
    head: &[u8],
    marker: &[u8],
    count: usize,
    batch: usize,
    chunk: usize,
    item: F,
) -> io::Result<()>
where
    F: Fn(usize, &mut Vec<u8>) -> serde_json::Result<()> + Sync,
{
    assert!(
        marker.starts_with(b"\n") && marker.ends_with(b": []") && batch > 0 && chunk > 0,
        "a marker is an empty array's line; batches and chunks hold items"
    );
    let at = splice_point(head, marker);
    if count == 0 {
        return out.write_all(head);
    }
    let depth = marker[1..].iter().take_while(|&&b| b == b' ').count();
    let pad = vec![b' '; depth + 2];
    out.write_all(&head[..at])?;
    let mut start = 0;
    while start < count {
        let end = start.saturating_add(batch).min(count);
        let tasks = (end - start).div_ceil(chunk);
        let parts: Vec<Vec<u8>> = (0..tasks)
            .into_par_iter()
            .map(|t| {
                let from = start + t * chunk;
                elements(from..from.saturating_add(chunk).min(end), &pad, &item)
            })
            .collect::<Result<_, _>>()?;
        for part in &parts {
            out.write_all(part)?;
        }
        start = end;
    }
    out.write_all(b"\n")?;
    out.write_all(&pad[..depth])?;
    out.write_all(&head[at..])
}

/// Where the items go: just before the `]` of the one occurrence of `marker`.
fn splice_point(head: &[u8], marker: &[u8]) -> usize {
    let mut found = head
        .windows(marker.len())
        .enumerate()
        .filter(|(_, w)| *w == marker)
        .map(|(i, _)| i);
    let at = found.next().expect("the document has the empty array");
    assert!(found.next().is_none(), "the empty array's line is unique");
    at + marker.len() - 1
}

/// Items `range` as elements of the array: each on a new line after a comma (none before the
/// array's first), every line of it indented by `pad` as the pretty printer would.
fn elements<F>(range: std::ops::Range<usize>, pad: &[u8], item: &F) -> serde_json::Result<Vec<u8>>
where
    F: Fn(usize, &mut Vec<u8>) -> serde_json::Result<()>,
{
    let mut out = Vec::with_capacity(range.len() * 1024);
    let mut one = Vec::with_capacity(2048);
    for i in range {
        out.extend_from_slice(if i == 0 { b"\n" } else { b",\n" });
        one.clear();
        item(i, &mut one)?;
        for (n, line) in one.split(|&b| b == b'\n').enumerate() {
            if n > 0 {
                out.push(b'\n');
            }
            out.extend_from_slice(pad);
            out.extend_from_slice(line);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn items_spliced_in_batches_are_the_bytes_of_one_serialization() {
        let items: Vec<serde_json::Value> = (0..23)
            .map(|i| json!({"n": i, "tags": ["a", i], "nested": {"x": [], "y": {}}}))
            .collect();
        for count in [0, 1, 23] {
            let whole = serde_json::to_vec_pretty(&json!({
                "a": {"list": []},
                "list": &items[..count],
                "z": 1
            }))
            .unwrap();
            let head =
                serde_json::to_vec_pretty(&json!({"a": {"list": []}, "list": [], "z": 1})).unwrap();
            for (batch, chunk) in [(BATCH, CHUNK), (7, 3), (1, 1), (usize::MAX, 5)] {
                let mut out = Vec::new();
                write(
                    &mut out,
                    &head,
                    b"\n  \"list\": []",
                    count,
                    batch,
                    chunk,
                    |i, w| serde_json::to_writer_pretty(w, &items[i]),
                )
                .unwrap();
                assert_eq!(
                    String::from_utf8(out).unwrap(),
                    String::from_utf8(whole.clone()).unwrap(),
                    "{count} items, batch {batch}, chunk {chunk}"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "the empty array's line is unique")]
    fn a_marker_found_twice_is_refused() {
        let head =
            serde_json::to_vec_pretty(&json!({"a": {"list": []}, "b": {"list": []}})).unwrap();
        let _ = write(
            &mut Vec::new(),
            &head,
            b"\n    \"list\": []",
            1,
            1,
            1,
            |_, w| serde_json::to_writer_pretty(w, &1),
        );
    }
}
