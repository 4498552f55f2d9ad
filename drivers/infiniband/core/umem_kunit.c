// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of ib_umem's DMA block helpers over synthetic mappings.
 *
 * Drivers program page lists and MTTs from ib_umem_find_best_pgsz() and
 * rdma_umem_for_each_dma_block(). These tests hand the helpers umems whose
 * DMA runs are made up: one run, runs of huge pages, scattered pages, a
 * first page entered at an offset and a last block only partly used, and
 * check the page size, the number of blocks and every block's address.
 * No device and no memory behind the addresses are needed. Every case runs
 * on both representations of a mapping: the scatterlist (software
 * devices, dma-buf) and the DMA ranges of the DMA range API path.
 */
#include <kunit/test.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <rdma/ib_umem.h>
#include <rdma/iter.h>

struct umem_run {
	dma_addr_t dma;
	unsigned int len;
};

KUNIT_DEFINE_ACTION_WRAPPER(umem_kunit_free_table, sg_free_table,
			    struct sg_table *);

enum { UMEM_KUNIT_SGL, UMEM_KUNIT_RANGES };

static const int umem_kunit_reprs[] = { UMEM_KUNIT_SGL, UMEM_KUNIT_RANGES };

static void umem_kunit_repr_desc(const int *repr, char *desc)
{
	strscpy(desc, *repr == UMEM_KUNIT_SGL ? "scatterlist" : "DMA ranges",
		KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(umem_repr, umem_kunit_reprs, umem_kunit_repr_desc);

/* The DMA range API's form: each run's device address, as dma_map_phys() */
static void umem_kunit_ranges(struct kunit *test, struct ib_umem *umem,
			      const struct umem_run *runs, unsigned int n)
{
	unsigned int i;

	umem->is_dma_range = 1;
	umem->nr_runs = n;
	umem->runs = kunit_kcalloc(test, n, sizeof(*umem->runs), GFP_KERNEL);
	umem->run_dma = kunit_kcalloc(test, n, sizeof(*umem->run_dma),
				      GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, umem->runs);
	KUNIT_ASSERT_NOT_NULL(test, umem->run_dma);
	for (i = 0; i < n; i++) {
		umem->runs[i].paddr = runs[i].dma;	/* not used here */
		umem->runs[i].len = runs[i].len;
		umem->run_dma[i] = runs[i].dma;
	}
}

/*
 * A umem over [@address, @address + @length) whose pages the device
 * reaches through @runs, in order: the first run starts at the page
 * @address is in, as ib_umem_get() maps it.
 */
static struct ib_umem *umem_kunit_get(struct kunit *test,
				      unsigned long address, size_t length,
				      const struct umem_run *runs,
				      unsigned int n)
{
	struct ib_umem *umem;
	struct scatterlist *sg;
	size_t mapped = 0;
	unsigned int i;

	umem = kunit_kzalloc(test, sizeof(*umem), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, umem);
	umem->address = address;
	umem->iova = address;
	umem->length = length;
	for (i = 0; i < n; i++)
		mapped += runs[i].len;
	/* the runs cover exactly the pages of the range */
	KUNIT_ASSERT_EQ(test, mapped,
			ALIGN(address + length, PAGE_SIZE) -
			ALIGN_DOWN(address, PAGE_SIZE));
	if (*(const int *)test->param_value == UMEM_KUNIT_RANGES) {
		umem_kunit_ranges(test, umem, runs, n);
		return umem;
	}
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&umem->sgt_append.sgt, n,
					     GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							umem_kunit_free_table,
							&umem->sgt_append.sgt),
			0);
	for_each_sgtable_sg(&umem->sgt_append.sgt, sg, i) {
		sg_dma_address(sg) = runs[i].dma;
		sg_dma_len(sg) = runs[i].len;
	}
	return umem;
}

/* The blocks rdma_umem_for_each_dma_block() visits: count, addresses. */
static unsigned int umem_kunit_blocks(struct ib_umem *umem,
				      unsigned long pgsz, dma_addr_t *out,
				      unsigned int max)
{
	struct ib_block_iter biter;
	unsigned int n = 0;

	rdma_umem_for_each_dma_block(umem, &biter, pgsz) {
		if (n < max)
			out[n] = rdma_block_iter_dma_address(&biter);
		n++;
	}
	return n;
}

#define UMEM_VA		0x7f0000200000UL	/* 2 MiB aligned */
#define PGSZ_4K_2M	(SZ_4K | SZ_2M)

/* One run, VA and DMA address 2 MiB aligned: two 2 MiB blocks. */
static void umem_test_one_run(struct kunit *test)
{
	static const struct umem_run runs[] = { { 0x40200000, SZ_4M } };
	struct ib_umem *umem = umem_kunit_get(test, UMEM_VA, SZ_4M, runs, 1);
	dma_addr_t b[4];

	KUNIT_ASSERT_EQ(test, ib_umem_find_best_pgsz(umem, PGSZ_4K_2M, UMEM_VA),
			SZ_2M);
	KUNIT_EXPECT_EQ(test, ib_umem_num_dma_blocks(umem, SZ_2M), 2);
	KUNIT_ASSERT_EQ(test, umem_kunit_blocks(umem, SZ_2M, b, 4), 2);
	KUNIT_EXPECT_EQ(test, b[0], 0x40200000);
	KUNIT_EXPECT_EQ(test, b[1], 0x40400000);
	KUNIT_EXPECT_EQ(test, ib_umem_dma_offset(umem, SZ_2M), 0);
}

/* Two 2 MiB runs apart from each other: a block each, in VA order. */
static void umem_test_huge_runs(struct kunit *test)
{
	static const struct umem_run runs[] = {
		{ 0x80000000, SZ_2M }, { 0x40000000, SZ_2M },
	};
	struct ib_umem *umem = umem_kunit_get(test, UMEM_VA, SZ_4M, runs, 2);
	dma_addr_t b[4];

	KUNIT_ASSERT_EQ(test, ib_umem_find_best_pgsz(umem, PGSZ_4K_2M, UMEM_VA),
			SZ_2M);
	KUNIT_ASSERT_EQ(test, umem_kunit_blocks(umem, SZ_2M, b, 4), 2);
	KUNIT_EXPECT_EQ(test, b[0], 0x80000000);
	KUNIT_EXPECT_EQ(test, b[1], 0x40000000);
}

/* Scattered 4 KiB pages: 4 KiB blocks, each page's address in order. */
static void umem_test_scattered_pages(struct kunit *test)
{
	static const struct umem_run runs[] = {
		{ 0x10000, SZ_4K }, { 0x30000, SZ_4K },
		{ 0x20000, SZ_4K }, { 0x80000, SZ_4K },
	};
	struct ib_umem *umem = umem_kunit_get(test, UMEM_VA, 4 * SZ_4K, runs, 4);
	dma_addr_t b[8];
	unsigned int i;

	KUNIT_ASSERT_EQ(test, ib_umem_find_best_pgsz(umem, PGSZ_4K_2M, UMEM_VA),
			SZ_4K);
	KUNIT_ASSERT_EQ(test, umem_kunit_blocks(umem, SZ_4K, b, 8), 4);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, b[i], runs[i].dma);
	/* a device that cannot take 4 KiB pages cannot map it at all */
	KUNIT_EXPECT_EQ(test, ib_umem_find_best_pgsz(umem, SZ_2M, UMEM_VA), 0);
}

/*
 * A range that starts 0x100 into its first page and is 2 MiB aligned
 * modulo its DMA address: one 2 MiB block, entered at 0x100.
 */
static void umem_test_first_page_offset(struct kunit *test)
{
	static const struct umem_run runs[] = { { 0x50000000, 4 * SZ_4K } };
	struct ib_umem *umem = umem_kunit_get(test, UMEM_VA + 0x100,
					      3 * SZ_4K, runs, 1);
	dma_addr_t b[4];

	KUNIT_ASSERT_EQ(test, ib_umem_find_best_pgsz(umem, PGSZ_4K_2M,
						     UMEM_VA + 0x100), SZ_2M);
	KUNIT_ASSERT_EQ(test, umem_kunit_blocks(umem, SZ_2M, b, 4), 1);
	KUNIT_EXPECT_EQ(test, b[0], 0x50000000);
	KUNIT_EXPECT_EQ(test, ib_umem_dma_offset(umem, SZ_2M), 0x100);
	KUNIT_EXPECT_EQ(test, ib_umem_start_dma_addr(umem), 0x50000100);

	/* in 4 KiB blocks: the range's 4 pages, from the first one */
	KUNIT_ASSERT_EQ(test, umem_kunit_blocks(umem, SZ_4K, b, 4), 4);
	KUNIT_EXPECT_EQ(test, b[0], 0x50000000);
	KUNIT_EXPECT_EQ(test, b[3], 0x50003000);
}

/* VA and DMA address differ in bit 12: nothing larger than 4 KiB fits. */
static void umem_test_misaligned(struct kunit *test)
{
	static const struct umem_run runs[] = { { 0x40000000, SZ_2M } };
	struct ib_umem *umem = umem_kunit_get(test, UMEM_VA + SZ_4K, SZ_2M,
					      runs, 1);
	dma_addr_t b[2];

	KUNIT_ASSERT_EQ(test, ib_umem_find_best_pgsz(umem, PGSZ_4K_2M,
						     UMEM_VA + SZ_4K), SZ_4K);
	KUNIT_EXPECT_EQ(test, ib_umem_num_dma_blocks(umem, SZ_4K), 512);
	KUNIT_ASSERT_EQ(test, umem_kunit_blocks(umem, SZ_4K, b, 1), 512);
	KUNIT_EXPECT_EQ(test, b[0], 0x40000000);
}

/* 2 MiB + 4 KiB: the second 2 MiB block is used for its first page only. */
static void umem_test_last_block_partial(struct kunit *test)
{
	static const struct umem_run runs[] = {
		{ 0x40000000, SZ_2M + SZ_4K },
	};
	struct ib_umem *umem = umem_kunit_get(test, UMEM_VA, SZ_2M + SZ_4K,
					      runs, 1);
	dma_addr_t b[4];

	KUNIT_ASSERT_EQ(test, ib_umem_find_best_pgsz(umem, PGSZ_4K_2M, UMEM_VA),
			SZ_2M);
	KUNIT_EXPECT_EQ(test, ib_umem_num_dma_blocks(umem, SZ_2M), 2);
	KUNIT_ASSERT_EQ(test, umem_kunit_blocks(umem, SZ_2M, b, 4), 2);
	KUNIT_EXPECT_EQ(test, b[0], 0x40000000);
	KUNIT_EXPECT_EQ(test, b[1], 0x40200000);
}

/* A device IOVA other than the VA decides the page size (rereg, dma-buf). */
static void umem_test_iova(struct kunit *test)
{
	static const struct umem_run runs[] = { { 0x40200000, SZ_4M } };
	struct ib_umem *umem = umem_kunit_get(test, UMEM_VA, SZ_4M, runs, 1);

	/* IOVA 4 KiB off the DMA address's 2 MiB alignment */
	KUNIT_EXPECT_EQ(test, ib_umem_find_best_pgsz(umem, PGSZ_4K_2M, SZ_4K),
			SZ_4K);
	KUNIT_EXPECT_EQ(test, umem->iova, SZ_4K);
	KUNIT_EXPECT_EQ(test, ib_umem_num_dma_blocks(umem, SZ_4K), 1024);
	/* IOVA 0: aligned again */
	KUNIT_EXPECT_EQ(test, ib_umem_find_best_pgsz(umem, PGSZ_4K_2M, 0),
			SZ_2M);
}

/* One run is contiguous; scattered pages are not. */
static void umem_test_contiguous(struct kunit *test)
{
	static const struct umem_run one[] = { { 0x40200000, SZ_4M } };
	static const struct umem_run two[] = {
		{ 0x10000, SZ_4K }, { 0x30000, SZ_4K },
	};

	struct ib_umem *a = umem_kunit_get(test, UMEM_VA, SZ_4M, one, 1);
	struct ib_umem *b = umem_kunit_get(test, UMEM_VA, 2 * SZ_4K, two, 2);

	KUNIT_EXPECT_TRUE(test, ib_umem_is_contiguous(a));
	KUNIT_EXPECT_FALSE(test, ib_umem_is_contiguous(b));
}

static struct kunit_case umem_test_cases[] = {
	KUNIT_CASE_PARAM(umem_test_one_run, umem_repr_gen_params),
	KUNIT_CASE_PARAM(umem_test_huge_runs, umem_repr_gen_params),
	KUNIT_CASE_PARAM(umem_test_scattered_pages, umem_repr_gen_params),
	KUNIT_CASE_PARAM(umem_test_first_page_offset, umem_repr_gen_params),
	KUNIT_CASE_PARAM(umem_test_misaligned, umem_repr_gen_params),
	KUNIT_CASE_PARAM(umem_test_last_block_partial, umem_repr_gen_params),
	KUNIT_CASE_PARAM(umem_test_iova, umem_repr_gen_params),
	KUNIT_CASE_PARAM(umem_test_contiguous, umem_repr_gen_params),
	{}
};

static struct kunit_suite umem_test_suite = {
	.name = "ib_umem_dma_blocks",
	.test_cases = umem_test_cases,
};

kunit_test_suite(umem_test_suite);

MODULE_DESCRIPTION("KUnit tests of ib_umem's DMA block helpers");
MODULE_LICENSE("GPL");
