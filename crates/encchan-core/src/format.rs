//! Formats whose high entropy is innocent (compressed archives, images,
//! video), and containers whose high entropy is symmetric ciphertext
//! (`openssl enc`, OpenPGP symmetric encryption), recognized from the first
//! bytes of a stream.
//!
//! Magic bytes alone are what an evader would prepend to ciphertext, so each
//! format is checked past its magic wherever the first 32 bytes allow it:
//! header CRCs (xz, 7z), reserved bits and ranges (gzip, zlib, zstd, png),
//! and for deflate streams the first block header, whose Huffman code-length
//! code must be a complete prefix code (random bits rarely are).

use crate::verdict::Format;

/// How many leading bytes [`detect`] looks at.
pub const PREFIX: usize = 32;

/// The format `prefix` (the first ≤ 32 bytes of a stream) starts, if any.
pub fn detect(p: &[u8]) -> Option<Format> {
    let f = if p.starts_with(&[0x1f, 0x8b, 0x08]) {
        gzip(p)
    } else if p.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        zstd(p)
    } else if p.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        xz(p)
    } else if p.starts_with(b"BZh") {
        bzip2(p)
    } else if p.starts_with(b"PK\x03\x04") {
        zip(p)
    } else if p.starts_with(&[b'7', b'z', 0xbc, 0xaf, 0x27, 0x1c]) {
        seven_zip(p)
    } else if p.starts_with(b"\x89PNG\r\n\x1a\n") {
        png(p)
    } else if p.starts_with(&[0xff, 0xd8, 0xff]) {
        jpeg(p)
    } else if p.starts_with(b"GIF87a") || p.starts_with(b"GIF89a") {
        gif(p)
    } else if p.starts_with(b"RIFF") {
        webp(p)
    } else if p.starts_with(b"%PDF-") {
        (p.len() >= 8 && p[5].is_ascii_digit() && p[6] == b'.').then_some(Format::Pdf)
    } else if p.get(4..8) == Some(b"ftyp") {
        mp4(p)
    } else if p.starts_with(&[0x1a, 0x45, 0xdf, 0xa3]) {
        Some(Format::Webm)
    } else if p.starts_with(b"Salted__") {
        (p.len() >= 16).then_some(Format::OpensslSalted)
    } else if p.len() >= 2 && (p[0] & 0x0f) == 8 && u16::from_be_bytes([p[0], p[1]]) % 31 == 0 {
        zlib(p)
    } else {
        openpgp_symmetric(p)
    };
    f
}

fn le16(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*p.get(at)?, *p.get(at + 1)?]))
}

fn le32(p: &[u8], at: usize) -> Option<u32> {
    let b = p.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// RFC 1952: flags' top three bits reserved, XFL 0/2/4, OS ≤ 13 or 255.
fn gzip(p: &[u8]) -> Option<Format> {
    let flags = *p.get(3)?;
    let xfl = *p.get(8)?;
    let os = *p.get(9)?;
    if flags & 0xe0 != 0 || !matches!(xfl, 0 | 2 | 4) || !(os <= 13 || os == 255) {
        return None;
    }
    // Without optional fields the deflate stream starts at byte 10.
    if flags & 0x1e == 0 && !deflate_plausible(&p[10..]) {
        return None;
    }
    Some(Format::Gzip)
}

/// RFC 1950: CM 8, window ≤ 32 KiB, FCHECK; no preset dictionary.
fn zlib(p: &[u8]) -> Option<Format> {
    let (cmf, flg) = (p[0], p[1]);
    if cmf >> 4 > 7 || flg & 0x20 != 0 || !deflate_plausible(&p[2..]) {
        return None;
    }
    Some(Format::Zlib)
}

/// LSB-first bit reader over a short slice.
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Bits<'_> {
    fn take(&mut self, n: usize) -> Option<u32> {
        let mut v = 0u32;
        for k in 0..n {
            let byte = *self.data.get((self.pos + k) / 8)?;
            v |= (((byte >> ((self.pos + k) % 8)) & 1) as u32) << k;
        }
        self.pos += n;
        Some(v)
    }
}

/// Checks the first deflate block header (RFC 1951 §3.2.3–3.2.7) as far as
/// `d` goes: a valid block type; for stored blocks LEN = ~NLEN; for dynamic
/// blocks HLIT ≤ 29, HDIST ≤ 29 and a complete code-length code. Too few
/// bytes to judge is not a failure.
fn deflate_plausible(d: &[u8]) -> bool {
    let mut bits = Bits { data: d, pos: 0 };
    let Some(header) = bits.take(3) else {
        return true;
    };
    match header >> 1 {
        0 => {
            // Stored: skip to the byte boundary, then LEN and NLEN.
            match (le16(d, 1), le16(d, 3)) {
                (Some(len), Some(nlen)) => len == !nlen,
                _ => true,
            }
        }
        1 => fixed_huffman_plausible(&mut bits),
        2 => {
            let (Some(hlit), Some(hdist), Some(hclen)) = (bits.take(5), bits.take(5), bits.take(4))
            else {
                return true;
            };
            if hlit > 29 || hdist > 29 {
                return false;
            }
            // Kraft sum of the code-length code over 2^7: must be exactly 1
            // (a complete prefix code), or a single code of length 1.
            let mut kraft = 0u32;
            let mut used = 0;
            for _ in 0..hclen + 4 {
                let Some(len) = bits.take(3) else { return true };
                if len > 0 {
                    kraft += 1 << (7 - len);
                    used += 1;
                }
            }
            kraft == 128 || (used == 1 && kraft == 64)
        }
        _ => false,
    }
}

/// Decodes a fixed-Huffman block (RFC 1951 §3.2.6) as far as the bits go,
/// without producing output: literal/length codes 286–287 and distance codes
/// 30–31 do not exist, and at the start of a stream no back-reference may
/// reach before the first byte. Random bits break these rules within a few
/// symbols.
fn fixed_huffman_plausible(bits: &mut Bits<'_>) -> bool {
    // Huffman codes are packed starting with their most significant bit.
    fn code(bits: &mut Bits<'_>, n: usize) -> Option<u32> {
        let mut c = 0;
        for _ in 0..n {
            c = (c << 1) | bits.take(1)?;
        }
        Some(c)
    }
    let mut produced = 0u32;
    loop {
        let Some(c7) = code(bits, 7) else { return true };
        let symbol = if c7 <= 0b0010111 {
            256 + c7
        } else {
            let Some(b) = bits.take(1) else { return true };
            let c8 = (c7 << 1) | b;
            if (0b0011_0000..=0b1011_1111).contains(&c8) {
                c8 - 0b0011_0000
            } else if (0b1100_0000..=0b1100_0111).contains(&c8) {
                280 + c8 - 0b1100_0000
            } else {
                let Some(b) = bits.take(1) else { return true };
                144 + ((c8 << 1) | b) - 0b1_1001_0000
            }
        };
        match symbol {
            0..=255 => produced += 1,
            256 => return true,
            286 | 287 => return false,
            _ => {
                // Length: extra bits per RFC 1951 §3.2.5.
                let extra = match symbol {
                    257..=264 | 285 => 0,
                    _ => (symbol - 261) / 4,
                };
                let base_len = length_base(symbol);
                let Some(e) = bits.take(extra as usize) else {
                    return true;
                };
                let Some(dcode) = code(bits, 5) else {
                    return true;
                };
                if dcode >= 30 {
                    return false;
                }
                let dextra = if dcode < 4 { 0 } else { dcode / 2 - 1 };
                let Some(de) = bits.take(dextra as usize) else {
                    return true;
                };
                let distance = dist_base(dcode) + de;
                if distance > produced {
                    return false;
                }
                produced += base_len + e;
            }
        }
    }
}

fn length_base(symbol: u32) -> u32 {
    match symbol {
        257..=264 => symbol - 254,
        285 => 258,
        _ => {
            let k = symbol - 261;
            let extra = k / 4;
            ((4 + (k % 4)) << extra) + 3
        }
    }
}

fn dist_base(code: u32) -> u32 {
    if code < 4 {
        code + 1
    } else {
        let extra = code / 2 - 1;
        ((2 + (code % 2)) << extra) + 1
    }
}

/// RFC 8878 §3.1.1: reserved bit clear, window exponent in range, and the
/// first block's type not reserved with a size ≤ 128 KiB.
fn zstd(p: &[u8]) -> Option<Format> {
    let fhd = *p.get(4)?;
    if fhd & 0x08 != 0 {
        return None;
    }
    let single_segment = fhd & 0x20 != 0;
    let dict_len = [0usize, 1, 2, 4][(fhd & 3) as usize];
    let fcs_len = match fhd >> 6 {
        0 if single_segment => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut at = 5;
    if !single_segment {
        // Window descriptor: exponent + 10 ≤ 41 (ZSTD_WINDOWLOG_MAX).
        if (*p.get(at)? >> 3) > 31 {
            return None;
        }
        at += 1;
    }
    at += dict_len + fcs_len;
    if let (Some(&b0), Some(&b1), Some(&b2)) = (p.get(at), p.get(at + 1), p.get(at + 2)) {
        let block = u32::from_le_bytes([b0, b1, b2, 0]);
        if (block >> 1) & 3 == 3 || block >> 3 > 128 * 1024 {
            return None;
        }
    }
    Some(Format::Zstd)
}

/// The CRC32 (IEEE) of `data`, for header checks.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// xz stream header: flags `00 0x` and their CRC32.
fn xz(p: &[u8]) -> Option<Format> {
    let flags = p.get(6..8)?;
    (flags[0] == 0 && flags[1] & 0xf0 == 0 && le32(p, 8)? == crc32(flags)).then_some(Format::Xz)
}

/// `BZh1`–`BZh9`, then the block magic (BCD π) or the end-of-stream magic.
fn bzip2(p: &[u8]) -> Option<Format> {
    let level = *p.get(3)?;
    let magic = p.get(4..10)?;
    ((b'1'..=b'9').contains(&level)
        && (magic == [0x31, 0x41, 0x59, 0x26, 0x53, 0x59]
            || magic == [0x17, 0x72, 0x45, 0x38, 0x50, 0x90]))
    .then_some(Format::Bzip2)
}

/// ZIP local file header: a known method and a plausible name length.
fn zip(p: &[u8]) -> Option<Format> {
    let version = le16(p, 4)?;
    let method = le16(p, 8)?;
    let name_len = le16(p, 26)?;
    (version <= 100
        && matches!(method, 0 | 1 | 6 | 8 | 9 | 12 | 14 | 93 | 95 | 98 | 99)
        && (1..=1024).contains(&name_len))
    .then_some(Format::Zip)
}

/// 7z signature header: version 0.x and the start header's CRC32.
fn seven_zip(p: &[u8]) -> Option<Format> {
    let start_header = p.get(12..32)?;
    (p[6] == 0 && le32(p, 8)? == crc32(start_header)).then_some(Format::SevenZip)
}

/// PNG: an IHDR chunk of length 13 with valid depth/color/method fields.
fn png(p: &[u8]) -> Option<Format> {
    let ihdr = p.get(8..29)?;
    let ok = ihdr[..8] == [0, 0, 0, 13, b'I', b'H', b'D', b'R']
        && matches!(ihdr[16], 1 | 2 | 4 | 8 | 16)
        && matches!(ihdr[17], 0 | 2 | 3 | 4 | 6)
        && ihdr[18] == 0
        && ihdr[19] == 0
        && ihdr[20] <= 1;
    ok.then_some(Format::Png)
}

/// JPEG: SOI, then a marker segment (APPn, DQT, DHT, SOF, COM) with a
/// length ≥ 2.
fn jpeg(p: &[u8]) -> Option<Format> {
    let marker = *p.get(3)?;
    let len = u16::from_be_bytes([*p.get(4)?, *p.get(5)?]);
    (matches!(marker, 0xe0..=0xef | 0xdb | 0xc4 | 0xc0..=0xc2 | 0xfe) && len >= 2)
        .then_some(Format::Jpeg)
}

/// GIF: non-zero logical screen size.
fn gif(p: &[u8]) -> Option<Format> {
    (le16(p, 6)? > 0 && le16(p, 8)? > 0).then_some(Format::Gif)
}

/// RIFF/WEBP with a VP8, VP8L or VP8X chunk.
fn webp(p: &[u8]) -> Option<Format> {
    (p.get(8..12)? == b"WEBP" && matches!(p.get(12..16)?, b"VP8 " | b"VP8L" | b"VP8X"))
        .then_some(Format::Webp)
}

/// ISO BMFF: a plausible ftyp box size and a printable major brand.
fn mp4(p: &[u8]) -> Option<Format> {
    let size = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
    let brand = p.get(8..12)?;
    ((8..=512).contains(&size) && brand.iter().all(|b| b.is_ascii_graphic() || *b == b' '))
        .then_some(Format::Mp4)
}

/// OpenPGP symmetric-key encrypted session key packet (tag 3, RFC 4880
/// §5.3 / RFC 9580): old or new packet format, version 4–6, a known
/// cipher, a known S2K specifier. This is what `gpg --symmetric` writes
/// first.
fn openpgp_symmetric(p: &[u8]) -> Option<Format> {
    let body = match *p.first()? {
        0x8c => 2, // old format, tag 3, one-octet length
        0x8d => 3, // old format, tag 3, two-octet length
        0xc3 => 2, // new format, tag 3, one-octet length
        _ => return None,
    };
    let version = *p.get(body)?;
    let (cipher, s2k) = match version {
        4 => (*p.get(body + 1)?, *p.get(body + 2)?),
        5 | 6 => (*p.get(body + 2)?, *p.get(body + 5).unwrap_or(&3)),
        _ => return None,
    };
    ((1..=13).contains(&cipher) && matches!(s2k, 0 | 1 | 3 | 4)).then_some(Format::OpenPgpSymmetric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_headers() {
        // `printf 'hello hello hello\n' | gzip -c -n | head -c 32`
        let gz = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9,
            0xc9, 0x57, 0xc8, 0x40, 0x90, 0x5c, 0x00, 0x3b, 0x7c, 0x8a, 0xdf, 0x12, 0x00, 0x00,
            0x00,
        ];
        assert_eq!(detect(&gz), Some(Format::Gzip));
        // `printf 'hello' | xz -c | head -c 12`
        let xz = [
            0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00, 0x04, 0xe6, 0xd6, 0xb4, 0x46,
        ];
        assert_eq!(detect(&xz), Some(Format::Xz));
        let mut bad_xz = xz;
        bad_xz[11] ^= 1;
        assert_eq!(detect(&bad_xz), None);
        assert_eq!(
            detect(b"Salted__12345678abcdefgh"),
            Some(Format::OpensslSalted)
        );
        // zlib default header 78 9c, fixed-Huffman block.
        assert_eq!(
            detect(&[0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]),
            Some(Format::Zlib)
        );
    }

    #[test]
    fn deflate_length_and_distance_tables() {
        // RFC 1951 §3.2.5 table spot checks.
        assert_eq!(length_base(257), 3);
        assert_eq!(length_base(265), 11);
        assert_eq!(length_base(269), 19);
        assert_eq!(length_base(284), 227);
        assert_eq!(length_base(285), 258);
        assert_eq!(dist_base(0), 1);
        assert_eq!(dist_base(4), 5);
        assert_eq!(dist_base(5), 7);
        assert_eq!(dist_base(29), 24577);
    }

    #[test]
    fn gzip_magic_before_random_bytes_is_mostly_refused() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut accepted = 0;
        for _ in 0..2000 {
            let mut p = [0u8; 32];
            p[..10].copy_from_slice(&[0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]);
            for b in p[10..].iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            if detect(&p).is_some() {
                accepted += 1;
            }
        }
        // Stored blocks need LEN = ~NLEN, fixed-Huffman blocks must decode,
        // dynamic ones need a complete code-length code.
        assert!(accepted < 100, "{accepted}/2000 accepted");
    }
}
