// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA device model: the test port.
 *
 * Silicon has debug access to its own view of memory; the model offers
 * the same through debugfs, for tests only. It lets a test see what the
 * device can reach, independently of any driver data path:
 *
 *   mrs      the MR table: key, PD, access, mode, iova, length, device
 *            address, page shift, translation entries
 *   mr_key   the MR that mr_mem goes through
 *   mr_mem   pread/pwrite at file offset = MR virtual address: the device
 *            moves the bytes through the MR's translation. No such key:
 *            ENOENT; a write without local write access: EACCES; outside
 *            the MR: ERANGE (both count as protection errors); a DMA fault:
 *            EIO (counted as a DMA fault); a revoked MR: EACCES. A miss on
 *            a fault-capable MR is reported as on the data path, and the
 *            access waits up to DMOD_PORT_MISS_MS for the translation
 *            (then ETIMEDOUT).
 *   dma_mem  pread at file offset = device address, behind a translating
 *            IOMMU only (EOPNOTSUPP otherwise): EIO where the IOMMU maps
 *            nothing.
 *   link     the port's cable: write 0 to pull it, 1 to plug it in.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/iommu.h>
#include <linux/seq_file.h>

#include "dmod.h"

#define DMOD_PORT_MAX	SZ_1M
#define DMOD_PORT_MISS_MS	5000

static int dmod_mrs_show(struct seq_file *m, void *unused)
{
	struct dmod_dev *mdev = m->private;
	struct dmod_mr *mr;
	unsigned long i;

	mutex_lock(&mdev->lock);
	xa_for_each(&mdev->mrs, i, mr) {
		u64 n = 1;

		if (mr->mode == DEMO_MR_PBL)
			n = (ALIGN(mr->iova + mr->length, 1ULL << mr->page_shift) -
			     ALIGN_DOWN(mr->iova, 1ULL << mr->page_shift)) >>
			    mr->page_shift;
		if (mr->mode == DEMO_MR_NONE)
			n = 0;
		seq_printf(m, "key 0x%x pd %u access 0x%x mode %s iova 0x%llx length %llu addr 0x%llx page_shift %u entries %llu state %s\n",
			   mr->key, mr->pdn, mr->access,
			   mr->mode == DEMO_MR_DMA ? "dma" :
			   mr->mode == DEMO_MR_RANGE ? "range" :
			   mr->mode == DEMO_MR_PBL ? "pbl" : "none",
			   mr->iova, mr->length, mr->addr,
			   mr->mode == DEMO_MR_PBL ? mr->page_shift : 0,
			   mr->mode == DEMO_MR_DMA ? 0 : n,
			   mr->state == DMOD_MR_VALID ? "valid" :
			   mr->state == DMOD_MR_MISSING ? "missing" : "revoked");
	}
	mutex_unlock(&mdev->lock);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(dmod_mrs);

static ssize_t dmod_port_mr(struct dmod_dev *mdev, void *buf, size_t len,
			    loff_t pos, bool to_mr)
{
	struct dmod_mr *mr;
	ssize_t ret = len;

	mutex_lock(&mdev->lock);
	mr = xa_load(&mdev->mrs, mdev->port_key >> 8);
	if (!dmod_running(mdev)) {
		ret = -EIO;
	} else if (!mr || mr->key != mdev->port_key) {
		ret = -ENOENT;
	} else if (mr->mode == DEMO_MR_DMA) {
		ret = -EOPNOTSUPP;	/* no bounds to check */
	} else if (mr->state == DMOD_MR_REVOKED) {
		mdev->cnt[DEMO_CNT_PROT_ERRORS]++;
		ret = -EACCES;
	} else if (dmod_mr_missing(mdev, mr->key, mr->pdn, 0)) {
		ret = -EAGAIN;
	} else if (to_mr && !(mr->access & DEMO_ACCESS_LOCAL_WRITE)) {
		mdev->cnt[DEMO_CNT_PROT_ERRORS]++;
		ret = -EACCES;
	} else if (!dmod_mr_check(mdev, mr->key, mr->pdn, pos, len, 0)) {
		mdev->cnt[DEMO_CNT_PROT_ERRORS]++;
		ret = -ERANGE;
	} else if (!dmod_mr_dma(mdev, mr, pos, buf, len, to_mr)) {
		ret = -EIO;
	}
	mutex_unlock(&mdev->lock);
	return ret;
}

/* As the data path holds work on a miss, the port waits for the driver. */
static ssize_t dmod_port_mr_wait(struct dmod_dev *mdev, void *buf, size_t len,
				 loff_t pos, bool to_mr)
{
	unsigned long end = jiffies + msecs_to_jiffies(DMOD_PORT_MISS_MS);
	ssize_t ret;

	while ((ret = dmod_port_mr(mdev, buf, len, pos, to_mr)) == -EAGAIN) {
		if (time_after(jiffies, end))
			return -ETIMEDOUT;
		if (msleep_interruptible(1))
			return -EINTR;
	}
	return ret;
}

static ssize_t dmod_mr_mem_read(struct file *f, char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct dmod_dev *mdev = f->private_data;
	ssize_t ret;
	void *buf;

	len = min_t(size_t, len, DMOD_PORT_MAX);
	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	ret = dmod_port_mr_wait(mdev, buf, len, *ppos, false);
	if (ret > 0 && copy_to_user(ubuf, buf, ret))
		ret = -EFAULT;
	if (ret > 0)
		*ppos += ret;
	kvfree(buf);
	return ret;
}

static ssize_t dmod_mr_mem_write(struct file *f, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct dmod_dev *mdev = f->private_data;
	ssize_t ret;
	void *buf;

	len = min_t(size_t, len, DMOD_PORT_MAX);
	buf = vmemdup_user(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	ret = dmod_port_mr_wait(mdev, buf, len, *ppos, true);
	if (ret > 0)
		*ppos += ret;
	kvfree(buf);
	return ret;
}

static const struct file_operations dmod_mr_mem_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = dmod_mr_mem_read,
	.write = dmod_mr_mem_write,
	.llseek = default_llseek,
};

static ssize_t dmod_dma_mem_read(struct file *f, char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct dmod_dev *mdev = f->private_data;
	struct iommu_domain *dom = iommu_get_domain_for_dev(mdev->dma_dev);
	ssize_t ret = 0;
	void *buf;

	if (!dom || dom->type == IOMMU_DOMAIN_IDENTITY)
		return -EOPNOTSUPP;
	len = min_t(size_t, len, DMOD_PORT_MAX);
	buf = kvmalloc(len, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	mutex_lock(&mdev->lock);
	if (!dmod_dma(mdev, *ppos, buf, len, false))
		ret = -EIO;
	mutex_unlock(&mdev->lock);
	if (!ret && copy_to_user(ubuf, buf, len))
		ret = -EFAULT;
	if (!ret) {
		*ppos += len;
		ret = len;
	}
	kvfree(buf);
	return ret;
}

static const struct file_operations dmod_dma_mem_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = dmod_dma_mem_read,
	.llseek = default_llseek,
};

static int dmod_link_get(void *data, u64 *val)
{
	struct dmod_dev *mdev = data;

	*val = READ_ONCE(mdev->link_up);
	return 0;
}

static int dmod_link_set(void *data, u64 val)
{
	if (val > 1)
		return -EINVAL;
	dmod_cable(data, val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmod_link_fops, dmod_link_get, dmod_link_set, "%llu\n");

/* Take the next @val commands off the ring and never complete them. */
static int dmod_drop_cmds_set(void *data, u64 val)
{
	struct dmod_dev *mdev = data;

	if (val > U32_MAX)
		return -EINVAL;
	mutex_lock(&mdev->lock);
	mdev->drop_cmds = val;
	mutex_unlock(&mdev->lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmod_drop_cmds_fops, NULL, dmod_drop_cmds_set,
			 "%llu\n");

/**
 * dmod_fail - make the device fail
 * @mdev: the device
 *
 * What a fault in the silicon does, for tests: the device reports a fatal
 * error and stops.
 */
void dmod_fail(struct dmod_dev *mdev)
{
	mutex_lock(&mdev->lock);
	/*
	 * The status first, as silicon sets it before it interrupts: the
	 * event's handler may run at once and read it.
	 */
	WRITE_ONCE(mdev->status, mdev->status | DEMO_STATUS_FATAL);
	if (READ_ONCE(mdev->ctrl) & DEMO_CTRL_ENABLE)
		__dmod_post_event(mdev, DEMO_EQE_FATAL, 0, 0);
	mutex_unlock(&mdev->lock);
}

static int dmod_fatal_set(void *data, u64 val)
{
	if (val != 1)
		return -EINVAL;
	dmod_fail(data);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(dmod_fatal_fops, NULL, dmod_fatal_set, "%llu\n");

void dmod_debugfs_add(struct dmod_dev *mdev)
{
	mdev->debugfs = debugfs_create_dir(dev_name(mdev->dma_dev),
					   dmod_debugfs);
	debugfs_create_file("mrs", 0400, mdev->debugfs, mdev, &dmod_mrs_fops);
	debugfs_create_x32("mr_key", 0600, mdev->debugfs, &mdev->port_key);
	debugfs_create_file("mr_mem", 0600, mdev->debugfs, mdev,
			    &dmod_mr_mem_fops);
	debugfs_create_file("dma_mem", 0400, mdev->debugfs, mdev,
			    &dmod_dma_mem_fops);
	debugfs_create_file_unsafe("link", 0600, mdev->debugfs, mdev,
				   &dmod_link_fops);
	debugfs_create_file_unsafe("drop_cmds", 0200, mdev->debugfs, mdev,
				   &dmod_drop_cmds_fops);
	debugfs_create_file_unsafe("fatal", 0200, mdev->debugfs, mdev,
				   &dmod_fatal_fops);
	debugfs_create_bool("store_forward", 0600, mdev->debugfs,
			    &mdev->store_forward);
}
