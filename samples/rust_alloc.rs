//! rust_alloc.rs - heap memory from Rust: a Vec, a Box, a String and a Vec
//! grown by push, each asked for at a line of its own and kept to the end
//! (leaked), so that the snapshot at the end holds every one at its line.
//! rustc links with its own lld, which lays code out apart from file
//! offsets, and Rust's own library code sits under /rustc/<hash>/.
//!
//! Prints what stays live at each line, for the tests (written from a stack
//! buffer with write(2): printing allocates nothing):
//!   expect heap FILE:LINE BYTES COUNT

use std::fmt::Write;
use std::hint::black_box;

extern "C" {
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

struct Line {
    buf: [u8; 256],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

fn say(args: std::fmt::Arguments) {
    let mut line = Line { buf: [0; 256], len: 0 };
    if line.write_fmt(args).is_ok() {
        unsafe { write(1, line.buf.as_ptr(), line.len) };
    }
}

fn expect(line: u32, bytes: usize, count: usize) {
    say(format_args!("expect heap samples/rust_alloc.rs:{} {} {}\n", line, bytes, count));
}

#[inline(never)]
fn make_vec(n: usize) -> (Vec<u64>, u32) {
    let v: Vec<u64> = Vec::with_capacity(black_box(n)); let line = line!();
    (v, line)
}

#[inline(never)]
fn make_box() -> (Box<[u8; 5000]>, u32) {
    let b = Box::new(black_box([7u8; 5000])); let line = line!();
    (b, line)
}

#[inline(never)]
fn make_string(n: usize) -> (String, u32) {
    let s = String::with_capacity(black_box(n)); let line = line!();
    (s, line)
}

#[inline(never)]
fn grow(n: u32) -> (Vec<u32>, u32) {
    let mut v = Vec::new();
    let mut line = 0;
    for i in 0..black_box(n) {
        v.push(i); line = line!();
    }
    (v, line)
}

fn main() {
    let (v, vline) = make_vec(1000);
    let (b, bline) = make_box();
    let (s, sline) = make_string(300);
    let (g, gline) = grow(1000);
    expect(vline, v.capacity() * 8, 1);
    expect(bline, 5000, 1);
    expect(sline, s.capacity(), 1);
    expect(gline, g.capacity() * 4, 1);
    std::mem::forget(v);
    std::mem::forget(b);
    std::mem::forget(s);
    std::mem::forget(g);
}
