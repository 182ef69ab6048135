//! TFRecord framing, as TensorBoard's event files use it: each record is its length (u64,
//! little-endian), the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of
//! the data.

/// TFRecord's mask, so a CRC computed over data that holds CRCs is not trivially zero.
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    (crc.rotate_right(15)).wrapping_add(0xa282_ead8)
}

/// One record around `data`.
pub fn frame(data: &[u8]) -> Vec<u8> {
    let length = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&length);
    out.extend_from_slice(&masked_crc(&length).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc(data).to_le_bytes());
    out
}

/// The records of a file's bytes, up to the first truncated or damaged one (a run killed
/// while writing leaves at most one, at the end, as TensorBoard's reader expects).
pub fn read_records(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut records = Vec::new();
    while bytes.len() >= 12 {
        let (length, rest) = bytes.split_at(8);
        let crc = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
        if crc != masked_crc(length) {
            break;
        }
        let n = u64::from_le_bytes(length.try_into().expect("8 bytes")) as usize;
        let rest = &rest[4..];
        if rest.len() < n.saturating_add(4) {
            break;
        }
        let (data, rest) = rest.split_at(n);
        let crc = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
        if crc != masked_crc(data) {
            break;
        }
        records.push(data);
        bytes = &rest[4..];
    }
    records
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masked_crc_of_known_bytes_is_tfrecords() {
        // CRC-32C("123456789") = 0xE3069283 (RFC 3720's check value), then masked.
        let crc: u32 = 0xE306_9283;
        assert_eq!(
            masked_crc(b"123456789"),
            crc.rotate_right(15).wrapping_add(0xa282_ead8)
        );
    }

    #[test]
    fn records_read_back_and_a_torn_last_one_is_dropped() {
        let mut file = frame(b"first");
        file.extend(frame(b""));
        file.extend(frame(b"third record"));
        assert_eq!(read_records(&file), [&b"first"[..], b"", b"third record"]);
        let torn = &file[..file.len() - 3];
        assert_eq!(read_records(torn), [&b"first"[..], b""]);
        let mut damaged = file.clone();
        damaged[20] ^= 1; // inside the first record's data
        assert!(read_records(&damaged).is_empty());
    }
}
