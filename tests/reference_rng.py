"""Plain-Python twins of the Numba generators (xoshiro256++, Lemire bounded ints, ziggurat normals).

Written from the papers, independently of the kernels, so that the tests compare two
implementations of the same definition.
"""

import math

import numpy as np

from sgdtheory._kernels.rng import ZIG_FI, ZIG_INV_R, ZIG_KI, ZIG_R, ZIG_WI

MASK = (1 << 64) - 1


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & MASK


class Xoshiro:
    """xoshiro256++ (Blackman & Vigna 2021), Python integers."""

    def __init__(self, state):
        self.s = [int(v) for v in state]

    def next(self):
        s = self.s
        result = (rotl((s[0] + s[3]) & MASK, 23) + s[0]) & MASK
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def double(self):
        return (self.next() >> 11) * 2.0**-53

    def below(self, n):
        """Lemire's nearly divisionless method on the top 32 bits."""
        m = (self.next() >> 32) * n
        low = m & 0xFFFFFFFF
        if low < n:
            threshold = (2**32 - n) % n
            while low < threshold:
                m = (self.next() >> 32) * n
                low = m & 0xFFFFFFFF
        return m >> 32

    def normal(self):
        while True:
            r = self.next()
            idx = r & 0xFF
            r >>= 8
            rabs = (r >> 1) & 0x000FFFFFFFFFFFFF
            x = rabs * float(ZIG_WI[idx])
            if r & 1:
                x = -x
            if rabs < int(ZIG_KI[idx]):
                return x
            if idx == 0:
                while True:
                    xx = -ZIG_INV_R * math.log1p(-self.double())
                    yy = -math.log1p(-self.double())
                    if yy + yy > xx * xx:
                        return -(ZIG_R + xx) if (rabs >> 8) & 1 else ZIG_R + xx
            elif (float(ZIG_FI[idx - 1]) - float(ZIG_FI[idx])) * self.double() + float(ZIG_FI[idx]) < math.exp(-0.5 * x * x):
                return x

    def state(self):
        return np.array(self.s, dtype=np.uint64)
