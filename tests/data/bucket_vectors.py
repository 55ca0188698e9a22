#!/usr/bin/env python3
"""Bucket test vectors for hiveql, from a Python port of Hive's Java code:
org.apache.hive.common.util.Murmur3.hash32 (seed 104729, signed tail bytes),
ObjectInspectorUtils.hashCodeMurmur (bucketing_version 2) and
ObjectInspectorUtils.hashCode (bucketing_version 1), folded as
getBucketHashCode does (31 * h + field) and placed by
(hash & Integer.MAX_VALUE) % buckets. Where the `mmh3` package is installed,
inputs without a sign-extended tail are checked against it (standard
MurmurHash3_x86_32). Prints Rust tuples for engine/src/bucket.rs."""
import struct

def i32(x):
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x

def rotl(x, r):
    x &= 0xFFFFFFFF
    return ((x << r) | (x >> (32 - r))) & 0xFFFFFFFF

def murmur3(data, seed=104729):
    c1, c2 = 0xcc9e2d51, 0x1b873593
    h = seed & 0xFFFFFFFF
    n = len(data) // 4
    for i in range(n):
        k = data[4*i] | data[4*i+1] << 8 | data[4*i+2] << 16 | data[4*i+3] << 24
        k = (k * c1) & 0xFFFFFFFF
        k = rotl(k, 15)
        k = (k * c2) & 0xFFFFFFFF
        h ^= k
        h = (rotl(h, 13) * 5 + 0xe6546b64) & 0xFFFFFFFF
    tail = data[4*n:]
    sb = lambda b: b - 256 if b > 127 else b  # Java byte
    if tail:
        k1 = 0
        if len(tail) >= 3: k1 ^= (sb(tail[2]) << 16)
        if len(tail) >= 2: k1 ^= (sb(tail[1]) << 8)
        k1 ^= sb(tail[0])
        k1 &= 0xFFFFFFFF
        k1 = (k1 * c1) & 0xFFFFFFFF
        k1 = rotl(k1, 15)
        k1 = (k1 * c2) & 0xFFFFFFFF
        h ^= k1
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85ebca6b) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xc2b2ae35) & 0xFFFFFFFF
    h ^= h >> 16
    return i32(h)

def big_integer_bytes(u):
    """java.math.BigInteger.toByteArray: two's complement, fewest bytes."""
    n = 1
    while not (-(1 << (8 * n - 1)) <= u < (1 << (8 * n - 1))):
        n += 1
    return (u & ((1 << (8 * n)) - 1)).to_bytes(n, 'big')

def decimal_parts(text):
    """HiveDecimal's normal form of a decimal literal: (unscaled, scale), no trailing fractional zeros."""
    neg = text.startswith('-')
    text = text.lstrip('-')
    whole, _, frac = text.partition('.')
    frac = frac.rstrip('0')
    u = int(whole + frac) if (whole + frac) else 0
    if u == 0:
        return 0, 0
    return (-u if neg else u), len(frac)

def vlong(v):
    """org.apache.hadoop.io.WritableUtils.writeVLong."""
    if -112 <= v <= 127:
        return struct.pack('>b', v)
    length = -112
    if v < 0:
        v = ~v
        length = -120
    tmp = v
    while tmp != 0:
        tmp >>= 8
        length -= 1
    n = -(length + 120) if length < -120 else -(length + 112)
    return struct.pack('>b', length) + bytes((v >> (8 * i)) & 0xFF for i in reversed(range(n)))

def timestamp_bytes(seconds, nanos):
    """TimestampWritableV2.getBytes (convertTimestampToBytes)."""
    wide = seconds < 0 or seconds > 2147483647
    dec = 0
    if nanos:
        n = nanos
        for _ in range(9):
            dec = dec * 10 + n % 10
            n //= 10
    first = seconds & 0xFFFFFFFF
    first = (first | 0x80000000) if (dec or wide) else (first & 0x7FFFFFFF)
    out = first.to_bytes(4, 'big')
    if wide or dec:
        out += vlong(-dec - 1 if wide else dec)
    if wide:
        out += vlong(seconds >> 31)
    return out

def v2(kind, v):
    if v is None: return 0
    if kind == 'boolean': return 1 if v else 0
    if kind == 'tinyint': return v
    if kind == 'smallint': return murmur3(struct.pack('>h', v))
    if kind == 'int': return murmur3(struct.pack('>i', v))
    if kind == 'bigint': return murmur3(struct.pack('>q', v))
    if kind == 'date': return murmur3(struct.pack('>i', v))  # days since 1970-01-01
    if kind == 'double':
        bits = struct.unpack('>q', struct.pack('>d', v))[0]
        return murmur3(struct.pack('>d', float(bits)))  # putDouble(long) widens to double
    if kind == 'float':
        bits = struct.unpack('>i', struct.pack('>f', v))[0]
        return murmur3(struct.pack('>f', float(bits)))
    if kind == 'string': return murmur3(v.encode('utf-8'))
    if kind == 'varchar': return murmur3(v.encode('utf-8'))
    if kind == 'binary': return murmur3(v)
    if kind == 'decimal': return murmur3(big_integer_bytes(decimal_parts(v)[0]))
    if kind == 'timestamp': return murmur3(timestamp_bytes(*v))  # (epoch seconds, nanos), UTC
    raise ValueError(kind)

def v1(kind, v):
    if v is None: return 0
    if kind == 'boolean': return 1 if v else 0
    if kind in ('tinyint', 'smallint', 'int', 'date'): return v
    if kind == 'bigint': return i32((v >> 32) ^ v) if v >= 0 else i32(((v & 0xFFFFFFFFFFFFFFFF) >> 32) ^ v)
    if kind == 'double':
        a = struct.unpack('>q', struct.pack('>d', v))[0]
        return i32(((a & 0xFFFFFFFFFFFFFFFF) >> 32) ^ a)
    if kind == 'float': return struct.unpack('>i', struct.pack('>f', v))[0]
    if kind in ('string', 'varchar', 'binary'):
        # String: from 0 (ObjectInspectorUtils); Text/BytesWritable: from 1 (WritableComparator.hashBytes)
        r = 0 if kind == 'string' else 1
        for b in (v if kind == 'binary' else v.encode('utf-8')):
            r = i32(r * 31 + (b - 256 if b > 127 else b))
        return r
    if kind == 'decimal':
        # BigDecimal.hashCode: 31 * BigInteger.hashCode + scale
        u, scale = decimal_parts(v)
        mag, words = abs(u), []
        while mag:
            words.insert(0, mag & 0xFFFFFFFF)
            mag >>= 32
        h = 0
        for w in words:
            h = i32(31 * h + w)
        h = i32(h * (1 if u > 0 else -1 if u < 0 else 0))
        return i32(31 * h + scale)
    if kind == 'timestamp':
        # TimestampWritable.hashCode: seconds << 30 | nanos, folded (JVM in UTC)
        seconds, nanos = v
        a = ((seconds << 30) | nanos) & 0xFFFFFFFFFFFFFFFF
        return i32((a >> 32) ^ a)
    raise ValueError(kind)

def row_hash(version, row):
    h = 0
    for kind, v in row:
        h = i32(h * 31 + (v2(kind, v) if version == 2 else v1(kind, v)))
    return h

def bucket(h, n):
    return (h & 0x7FFFFFFF) % n

if __name__ == '__main__':
    try:
        import mmh3
        for s in [b'', b'a', b'ab', b'abc', b'abcd', b'hello world']:
            assert mmh3.hash(s, 104729, signed=True) == murmur3(s), s
        print('// checked against mmh3')
    except ImportError:
        print('// mmh3 not installed: not cross-checked')
    for s in [b'', b'a', b'ab', b'abc', b'abcd', b'hello', b'\xc3\xa9', 'caf\u00e9'.encode(), '\u65e5\u672c\u8a9e'.encode(), b'\xff\xfe\xfd']:
        esc = ''.join('\\x%02x' % c for c in s)
        print(f'(b"{esc}", {murmur3(s)}),')
    rows = [
        ('int', [('int', 0)]), ('int', [('int', 1)]), ('int', [('int', -1)]), ('int', [('int', 2147483647)]),
        ('bigint', [('bigint', 3000000000)]), ('bigint', [('bigint', -5)]),
        ('smallint', [('smallint', 7)]), ('tinyint', [('tinyint', -3)]), ('boolean', [('boolean', True)]),
        ('string', [('string', 'hive')]), ('string', [('string', 'caf\u00e9')]), ('string', [('string', '\u65e5\u672c')]),
        ('date', [('date', 19844)]),  # 2024-05-01
        ('double', [('double', 1.5)]), ('float', [('float', 2.25)]),
        ('multi', [('int', 42), ('string', 'x')]), ('multi', [('string', 'us'), ('date', 19844), ('bigint', 7)]),
        ('null', [('int', None)]),
        ('decimal', [('decimal', '1.50')]), ('decimal', [('decimal', '-12345.678')]), ('decimal', [('decimal', '0.00')]),
        ('decimal', [('decimal', '100')]), ('decimal', [('decimal', '12345678901234567890.5')]),
        ('timestamp', [('timestamp', (1714521600, 0))]),          # 2024-05-01 00:00:00
        ('timestamp', [('timestamp', (1714521600, 123000000))]),  # 2024-05-01 00:00:00.123
        ('timestamp', [('timestamp', (-86400, 500000000))]),      # 1969-12-31 00:00:00.5
        ('timestamp', [('timestamp', (4102444800, 0))]),          # 2100-01-01 00:00:00
        ('binary', [('binary', b'\x01\xff\x80')]), ('varchar', [('varchar', 'hive')]),
        ('multi', [('decimal', '9.99'), ('timestamp', (1714521600, 0))]),
    ]
    for name, row in rows:
        print(f'// {name}: {row}')
        print(f'(v2 hash {row_hash(2, row)}, bucket/16 {bucket(row_hash(2, row), 16)}; v1 hash {row_hash(1, row) })')
