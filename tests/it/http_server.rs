//! A small HTTP/1.1 server on the loopback address for the download tests: it serves fixed
//! bytes per path, counts requests, and can drop the connection part-way through a body.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the server answers for one path.
#[derive(Clone)]
pub enum Reply {
    /// 200 with these bytes.
    Whole(Vec<u8>),
    /// 200 announcing all the bytes, then the connection closed after the first `n`.
    CutShort(Vec<u8>, usize),
}

pub struct TestServer {
    pub base: String,
    requests: Arc<AtomicUsize>,
}

impl TestServer {
    /// Serves `files` (path without the leading slash → reply); other paths get 404.
    pub fn start(files: HashMap<String, Reply>) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = answer(stream, &files);
            }
        });
        TestServer { base, requests }
    }

    /// How many connections were made so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(mut stream: TcpStream, files: &HashMap<String, Reply>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let path = request_line.split(' ').nth(1).unwrap_or("/");
    let head = |len: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n")
    };
    match files.get(path.trim_start_matches('/')) {
        Some(Reply::Whole(bytes)) => {
            stream.write_all(head(bytes.len()).as_bytes())?;
            stream.write_all(bytes)?;
        }
        Some(Reply::CutShort(bytes, n)) => {
            stream.write_all(head(bytes.len()).as_bytes())?;
            stream.write_all(&bytes[..*n])?;
        }
        None => {
            stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
        }
    }
    stream.flush()?;
    stream.shutdown(std::net::Shutdown::Both)
}

/// An address nothing listens on: connecting is refused at once (the offline case).
pub fn closed_base() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    base
}
