/*
 * cpubench: a fixed amount of integer, memory and branch work, run inside
 * a guest to compare Fuji (JIT and interpreter), QEMU TCG and the host.
 *
 *   gcc -O2 -static -o cpubench cpubench.c
 *
 * It prints one line:
 *   FUJI-CPUBENCH: <seconds> s checksum <hex>
 * The work is fixed (never "as much as fits in a second") and uses no
 * floating point, no addresses and no time, so the checksum is the same on
 * every run, every emulator and the host; a different checksum means the
 * emulator computed something wrong.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* Sizes: together about 0.25 s natively on the project's machine (2-core
 * AMD EPYC); the interpreter must finish boot and bench in about 90 s. */
enum {
	SIEVE_N = 1 << 21,      /* sieve of Eratosthenes up to 2 Mi */
	SIEVE_ROUNDS = 12,
	SORT_N = 1 << 17,       /* quicksort of 128 Ki random ints */
	SORT_ROUNDS = 7,
	CRC_BYTES = 1 << 20,    /* table-driven CRC-32 of 1 MiB */
	CRC_ROUNDS = 20,
	HASH_BITS = 16,         /* open-addressing table of 64 Ki slots */
	HASH_KEYS = 40000,
	HASH_ROUNDS = 36,
	MAT_N = 128,            /* 128x128 integer matrix multiply */
	MAT_ROUNDS = 16,
	LZ_BYTES = 1 << 21,     /* LZ77 match search over 2 MiB */
	LZ_WINDOW = 1 << 15,
	LZ_HASH_BITS = 15,
	LZ_CHAIN = 32,
	LZ_MIN = 3,
	LZ_MAX = 258,
};

/* The buffers live in .bss (touched before the clock starts, so page
 * faults are not part of the measurement). */
static uint8_t sieve_buf[SIEVE_N + 1];
static uint32_t sort_buf[SORT_N];
static uint8_t crc_buf[CRC_BYTES];
static uint32_t crc_table[256];
static uint32_t hash_keys[1 << HASH_BITS];
static uint32_t hash_vals[1 << HASH_BITS];
static uint32_t mat_a[MAT_N][MAT_N], mat_b[MAT_N][MAT_N], mat_c[MAT_N][MAT_N];
static uint8_t lz_buf[LZ_BYTES];
static int32_t lz_head[1 << LZ_HASH_BITS];
static int32_t lz_prev[LZ_WINDOW];

/* xorshift64*: a deterministic pseudo-random sequence. */
static uint32_t rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

/* mix folds a result into the running checksum (FNV-1a over 64-bit words). */
static uint64_t mix(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001B3ULL;
	}
	return h;
}

static uint64_t sieve(uint32_t n)
{
	memset(sieve_buf, 1, n + 1);
	sieve_buf[0] = sieve_buf[1] = 0;
	for (uint32_t i = 2; i * i <= n; i++)
		if (sieve_buf[i])
			for (uint32_t j = i * i; j <= n; j += i)
				sieve_buf[j] = 0;
	uint64_t count = 0, sum = 0;
	for (uint32_t i = 0; i <= n; i++)
		if (sieve_buf[i]) {
			count++;
			sum += i;
		}
	return count << 40 ^ sum;
}

static void quicksort(uint32_t *a, long lo, long hi)
{
	while (hi - lo > 16) {
		long mid = lo + (hi - lo) / 2;
		/* Median of three as the pivot. */
		if (a[mid] < a[lo]) { uint32_t t = a[mid]; a[mid] = a[lo]; a[lo] = t; }
		if (a[hi] < a[lo]) { uint32_t t = a[hi]; a[hi] = a[lo]; a[lo] = t; }
		if (a[hi] < a[mid]) { uint32_t t = a[hi]; a[hi] = a[mid]; a[mid] = t; }
		uint32_t p = a[mid];
		long i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p) i++;
			while (a[j] > p) j--;
			if (i <= j) {
				uint32_t t = a[i]; a[i] = a[j]; a[j] = t;
				i++;
				j--;
			}
		}
		/* Recurse into the smaller side, loop on the larger. */
		if (j - lo < hi - i) {
			quicksort(a, lo, j);
			lo = i;
		} else {
			quicksort(a, i, hi);
			hi = j;
		}
	}
	for (long i = lo + 1; i <= hi; i++) {
		uint32_t v = a[i];
		long j = i - 1;
		while (j >= lo && a[j] > v) {
			a[j + 1] = a[j];
			j--;
		}
		a[j + 1] = v;
	}
}

static uint64_t sort_bench(uint64_t *seed)
{
	for (long i = 0; i < SORT_N; i++)
		sort_buf[i] = rnd(seed);
	quicksort(sort_buf, 0, SORT_N - 1);
	uint64_t h = 0, unsorted = 0;
	for (long i = 0; i < SORT_N; i++) {
		h += (uint64_t)sort_buf[i] * (uint64_t)(i + 1);
		if (i > 0 && sort_buf[i - 1] > sort_buf[i])
			unsorted++;
	}
	return h ^ unsorted << 56;
}

static uint64_t crc_bench(uint64_t *seed)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	for (long i = 0; i < CRC_BYTES; i += 4) {
		uint32_t r = rnd(seed);
		memcpy(&crc_buf[i], &r, 4);
	}
	uint64_t h = 0;
	uint32_t crc = 0xFFFFFFFFu;
	for (int r = 0; r < CRC_ROUNDS; r++) {
		for (long i = 0; i < CRC_BYTES; i++)
			crc = crc_table[(crc ^ crc_buf[i]) & 0xff] ^ (crc >> 8);
		h = mix(h, crc ^ 0xFFFFFFFFu);
		/* Change the data a little so that no round repeats the last. */
		crc_buf[(uint32_t)r * 7919u % CRC_BYTES] ^= (uint8_t)crc;
	}
	return h;
}

static uint64_t hash_bench(uint64_t *seed)
{
	const uint32_t mask = (1u << HASH_BITS) - 1;
	memset(hash_keys, 0, sizeof hash_keys);
	uint64_t s0 = *seed, hits = 0, sum = 0;
	/* Insert HASH_KEYS non-zero keys (0 marks an empty slot). */
	for (int i = 0; i < HASH_KEYS; i++) {
		uint32_t k = rnd(seed) | 1;
		uint32_t slot = (k * 2654435761u) >> (32 - HASH_BITS);
		while (hash_keys[slot] != 0 && hash_keys[slot] != k)
			slot = (slot + 1) & mask;
		hash_keys[slot] = k;
		hash_vals[slot] += (uint32_t)i;
	}
	/* Look up the same keys again (all hit) interleaved with fresh
	 * random ones (nearly all miss). */
	uint64_t s1 = s0;
	for (int i = 0; i < HASH_KEYS; i++) {
		uint32_t keys[2] = { rnd(&s1) | 1, rnd(seed) | 1 };
		for (int t = 0; t < 2; t++) {
			uint32_t k = keys[t];
			uint32_t slot = (k * 2654435761u) >> (32 - HASH_BITS);
			while (hash_keys[slot] != 0) {
				if (hash_keys[slot] == k) {
					hits++;
					sum += hash_vals[slot] ^ slot;
					break;
				}
				slot = (slot + 1) & mask;
			}
		}
	}
	return hits << 40 ^ sum;
}

/* Kept scalar: the benchmark measures the integer pipeline an emulator's
 * JIT compiles, and gcc -O2 would otherwise turn this loop into SSE2. */
__attribute__((optimize("no-tree-vectorize")))
static uint64_t matmul_bench(uint64_t *seed)
{
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			mat_a[i][j] = rnd(seed) & 0xffff;
			mat_b[i][j] = rnd(seed) & 0xffff;
		}
	/* Dot products down b's columns: multiply-adds with a strided load. */
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++) {
			uint32_t acc = 0;
			for (int k = 0; k < MAT_N; k++)
				acc += mat_a[i][k] * mat_b[k][j];
			mat_c[i][j] = acc;
		}
	uint64_t h = 0;
	for (int i = 0; i < MAT_N; i++)
		for (int j = 0; j < MAT_N; j++)
			h = h * 31 + mat_c[i][j];
	return h;
}

/* Greedy LZ77 parse with hash chains, as deflate's match finder does. */
static uint64_t lz_bench(uint64_t *seed)
{
	/* Text from a small vocabulary of random "words", so that it has
	 * matches at all distances. */
	static const char *const words[] = {
		"the ", "emulator ", "fuji ", "block ", "cache ", "jit ", "of ", "and ",
		"guest ", "kernel ", "page ", "table ", "interrupt ", "x86 ", "to ", "a ",
	};
	long n = 0;
	while (n < LZ_BYTES) {
		uint32_t r = rnd(seed);
		if ((r & 0xff) < 24) { /* now and then a random byte */
			lz_buf[n++] = (uint8_t)(r >> 8);
			continue;
		}
		const char *w = words[(r >> 8) & 15];
		while (*w && n < LZ_BYTES)
			lz_buf[n++] = (uint8_t)*w++;
	}
	for (int i = 0; i < 1 << LZ_HASH_BITS; i++)
		lz_head[i] = -1;
	uint64_t h = 0, literals = 0, matches = 0, matched = 0;
	long pos = 0;
	while (pos < LZ_BYTES) {
		long best_len = 0, best_dist = 0;
		uint32_t hv = 0;
		if (pos + LZ_MIN <= LZ_BYTES) {
			hv = ((uint32_t)lz_buf[pos] << 16 | (uint32_t)lz_buf[pos + 1] << 8 | lz_buf[pos + 2]) * 2654435761u >> (32 - LZ_HASH_BITS);
			long cand = lz_head[hv];
			long max = LZ_BYTES - pos < LZ_MAX ? LZ_BYTES - pos : LZ_MAX;
			for (int chain = 0; cand >= 0 && pos - cand <= LZ_WINDOW && chain < LZ_CHAIN; chain++) {
				if (lz_buf[cand + best_len] == lz_buf[pos + best_len]) {
					long l = 0;
					while (l < max && lz_buf[cand + l] == lz_buf[pos + l])
						l++;
					if (l > best_len) {
						best_len = l;
						best_dist = pos - cand;
						if (l == max)
							break;
					}
				}
				long p = lz_prev[cand & (LZ_WINDOW - 1)];
				if (p >= cand)
					break;
				cand = p;
			}
		}
		long step = best_len >= LZ_MIN ? best_len : 1;
		if (step > 1) {
			matches++;
			matched += (uint64_t)best_len;
			h = mix(h, (uint64_t)best_dist << 16 | (uint64_t)best_len);
		} else {
			literals++;
			h = h * 33 + lz_buf[pos];
		}
		/* Enter every position the step covers into the chains. */
		for (long e = pos; e < pos + step; e++) {
			if (e + LZ_MIN > LZ_BYTES)
				break;
			uint32_t he = ((uint32_t)lz_buf[e] << 16 | (uint32_t)lz_buf[e + 1] << 8 | lz_buf[e + 2]) * 2654435761u >> (32 - LZ_HASH_BITS);
			lz_prev[e & (LZ_WINDOW - 1)] = lz_head[he];
			lz_head[he] = (int32_t)e;
		}
		pos += step;
	}
	return mix(h, literals << 40 ^ matches << 20 ^ matched);
}

int main(void)
{
	/* Touch every buffer before the clock starts. */
	memset(sieve_buf, 0, sizeof sieve_buf);
	memset(sort_buf, 0, sizeof sort_buf);
	memset(crc_buf, 0, sizeof crc_buf);
	memset(hash_keys, 0, sizeof hash_keys);
	memset(hash_vals, 0, sizeof hash_vals);
	memset(lz_buf, 0, sizeof lz_buf);
	memset(lz_prev, 0, sizeof lz_prev);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	uint64_t seed = 0x9E3779B97F4A7C15ULL, sum = 0xCBF29CE484222325ULL;
	for (int r = 0; r < SIEVE_ROUNDS; r++)
		sum = mix(sum, sieve(SIEVE_N - (uint32_t)r * 1000));
	for (int r = 0; r < SORT_ROUNDS; r++)
		sum = mix(sum, sort_bench(&seed));
	sum = mix(sum, crc_bench(&seed));
	memset(hash_vals, 0, sizeof hash_vals);
	for (int r = 0; r < HASH_ROUNDS; r++)
		sum = mix(sum, hash_bench(&seed));
	for (int r = 0; r < MAT_ROUNDS; r++)
		sum = mix(sum, matmul_bench(&seed));
	sum = mix(sum, lz_bench(&seed));

	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t ns = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000000000 + (t1.tv_nsec - t0.tv_nsec);
	int64_t ms = (ns + 500000) / 1000000;
	printf("FUJI-CPUBENCH: %lld.%03lld s checksum %016llx\n",
	       (long long)(ms / 1000), (long long)(ms % 1000), (unsigned long long)sum);
	return 0;
}
