// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA driver: device discovery, registration and removal.
 *
 * A demo HCA does DMA through a real struct device so that the DMA API
 * (including the IOVA range API and dma-buf imports) sees a real device:
 *
 *  - a PCI function bound by driver_override, e.g. QEMU's "edu" device;
 *    behind an IOMMU this is the IOVA path;
 *  - a platform device created through the driver's new_device file
 *    (/sys/bus/platform/drivers/demo_rdma/new_device), which is never
 *    behind an IOMMU: the dma-direct path.
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <rdma/demo-abi.h>

#include "demo.h"

#define DRV_NAME "demo_rdma"

/* Instance numbers, shared by both kinds of parent device. */
static DEFINE_IDA(demo_index_ida);

/* Platform devices made by new_device or the KUnit tests, by platform id. */
static DEFINE_XARRAY_ALLOC(demo_pdevs);
static struct dentry *demo_debugfs;

static const struct ib_device_ops demo_dev_ops = {
	.owner = THIS_MODULE,
	.driver_id = RDMA_DRIVER_DEMO,
	.uverbs_abi_ver = DEMO_ABI_VERSION,
	.uverbs_robust_udata = 1,

	.alloc_hw_port_stats = demo_alloc_hw_port_stats,
	.alloc_pd = demo_alloc_pd,
	.alloc_ucontext = demo_alloc_ucontext,
	.create_cq = demo_create_cq,
	.create_qp = demo_create_qp,
	.create_user_cq = demo_create_user_cq,
	.dealloc_pd = demo_dealloc_pd,
	.dealloc_ucontext = demo_dealloc_ucontext,
	.disassociate_ucontext = demo_disassociate_ucontext,
	.dereg_mr = demo_dereg_mr,
	.destroy_cq = demo_destroy_cq,
	.destroy_qp = demo_destroy_qp,
	.get_dma_mr = demo_get_dma_mr,
	.get_hw_stats = demo_get_hw_stats,
	.get_port_immutable = demo_get_port_immutable,
	.mmap = demo_mmap,
	.mmap_free = demo_mmap_free,
	.modify_qp = demo_modify_qp,
	.poll_cq = demo_poll_cq,
	.post_recv = demo_post_recv,
	.post_send = demo_post_send,
	.query_device = demo_query_device,
	.query_gid = demo_query_gid,
	.query_pkey = demo_query_pkey,
	.query_port = demo_query_port,
	.query_qp = demo_query_qp,
	.reg_user_mr = demo_reg_user_mr,
	.reg_user_mr_dmabuf = demo_reg_user_mr_dmabuf,
	.req_notify_cq = demo_req_notify_cq,

	INIT_RDMA_OBJ_SIZE(ib_cq, demo_cq, ibcq),
	INIT_RDMA_OBJ_SIZE(ib_pd, demo_pd, ibpd),
	INIT_RDMA_OBJ_SIZE(ib_qp, demo_qp, ibqp),
	INIT_RDMA_OBJ_SIZE(ib_ucontext, demo_ucontext, ibucontext),
};

/*
 * The device's events, each handed to the object that owns it; the
 * command layer (demo_cmd.c) handles command completions and fatal errors
 * itself, and calls nothing else.
 */
static const demo_event_fn demo_events[DEMO_EQE_NR] = {
	[DEMO_EQE_COMP] = demo_cq_event,
	[DEMO_EQE_QP_FATAL] = demo_qp_event,
	[DEMO_EQE_PORT_CHANGE] = demo_port_event,
	[DEMO_EQE_MR_MISS] = demo_dmabuf_miss,
};

/* Ask the device for its limits, through a DMA buffer as hardware would. */
static int demo_query_hw(struct demo_dev *dev)
{
	struct demo_cmd cmd = { .opcode = cpu_to_le16(DEMO_CMD_QUERY_DEVICE) };
	struct demo_device_attr *attr;
	dma_addr_t dma;
	int err;

	attr = dma_alloc_coherent(dev->dma_dev, sizeof(*attr), &dma, GFP_KERNEL);
	if (!attr)
		return -ENOMEM;
	cmd.query_device.resp_dma = cpu_to_le64(dma);
	err = demo_cmd_exec(dev, &cmd);
	if (!err)
		dev->attr = *attr;
	dma_free_coherent(dev->dma_dev, sizeof(*attr), attr, dma);
	return err;
}

static const char *const demo_mr_backends[] = {
	[DEMO_MR_BACKEND_UMEM] = "umem",
	[DEMO_MR_BACKEND_SGL] = "sgl",
};

static const char *const demo_mr_xlates[] = {
	[DEMO_MR_XLATE_AUTO] = "auto",
	[DEMO_MR_XLATE_PBL] = "pbl",
};

static const char *const demo_dmabuf_imports[] = {
	[DEMO_DMABUF_DYNAMIC] = "dynamic",
	[DEMO_DMABUF_REVOCABLE] = "revocable",
};

/*
 * Per-device choices in debugfs, for tests and benchmarks: mr_backend is
 * the path that maps user MRs, mr_translation whether an MR may be one
 * device range or only a page list, dmabuf_import the model dma-buf MRs
 * are imported with. Each is an int in struct demo_dev.
 */
struct demo_choice {
	const char *name;
	size_t offset;
	const char *const *values;
	unsigned int n;
};

static const struct demo_choice demo_choices[] = {
	{ "mr_backend", offsetof(struct demo_dev, mr_backend),
	  demo_mr_backends, ARRAY_SIZE(demo_mr_backends) },
	{ "mr_translation", offsetof(struct demo_dev, mr_xlate),
	  demo_mr_xlates, ARRAY_SIZE(demo_mr_xlates) },
	{ "dmabuf_import", offsetof(struct demo_dev, dmabuf_import),
	  demo_dmabuf_imports, ARRAY_SIZE(demo_dmabuf_imports) },
};

static int *demo_choice_val(struct file *f)
{
	const struct demo_choice *c = debugfs_get_aux(f);

	return (void *)f->private_data + c->offset;
}

static ssize_t demo_choice_read(struct file *f, char __user *ubuf,
				size_t len, loff_t *ppos)
{
	const struct demo_choice *c = debugfs_get_aux(f);
	char buf[16];
	int n;

	n = scnprintf(buf, sizeof(buf), "%s\n",
		      c->values[READ_ONCE(*demo_choice_val(f))]);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static ssize_t demo_choice_write(struct file *f, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	const struct demo_choice *c = debugfs_get_aux(f);
	char buf[16] = {};
	int i;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	i = __sysfs_match_string(c->values, c->n, buf);
	if (i < 0)
		return i;
	WRITE_ONCE(*demo_choice_val(f), i);
	return len;
}

static const struct file_operations demo_choice_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = demo_choice_read,
	.write = demo_choice_write,
	.llseek = default_llseek,
};

static struct demo_dev *demo_add(struct device *dma_dev)
{
	struct demo_dev *dev;
	int err, index;
	unsigned int i;

	err = dma_set_mask_and_coherent(dma_dev, DMA_BIT_MASK(64));
	if (err)
		return ERR_PTR(err);
	/*
	 * The device's translation takes DMA segments of any length; say so,
	 * or exporters that build their scatterlists for this device (a
	 * dma-buf mapped for an MR) must split them at 64 KiB.
	 */
	dma_set_max_seg_size(dma_dev, UINT_MAX);

	index = ida_alloc(&demo_index_ida, GFP_KERNEL);
	if (index < 0)
		return ERR_PTR(index);

	dev = ib_alloc_device(demo_dev, ibdev);
	if (!dev) {
		err = -ENOMEM;
		goto err_ida;
	}
	dev->dma_dev = dma_dev;
	dev->index = index;
	xa_init_flags(&dev->pd_xa, XA_FLAGS_ALLOC1);
	/* Stored to and erased from with interrupts off (xa_*_irq()). */
	xa_init_flags(&dev->cq_xa, XA_FLAGS_LOCK_IRQ);
	xa_init_flags(&dev->qp_xa, XA_FLAGS_LOCK_IRQ);
	demo_dmabuf_init(dev);
	INIT_WORK(&dev->flush_work, demo_flush_work);

	err = demo_hw_init(dev, demo_events);
	if (err)
		goto err_dealloc;
	err = demo_query_hw(dev);
	if (err)
		goto err_hw;

	/* Locally administered, deterministic: 02:de:70:00:00:<index>. */
	dev->ibdev.node_guid = cpu_to_be64(0x02de700000000000ULL | index);
	dev->ibdev.node_type = RDMA_NODE_IB_CA;
	dev->ibdev.phys_port_cnt = 1;
	dev->ibdev.num_comp_vectors = 1;
	dev->ibdev.dev.parent = dma_dev;
	strscpy(dev->ibdev.node_desc, "demo HCA", sizeof(dev->ibdev.node_desc));
	ib_set_device_ops(&dev->ibdev, &demo_dev_ops);
	/*
	 * The send doorbell of a user QP is an empty POST_SEND, and CQs are
	 * armed with REQ_NOTIFY_CQ (demo-abi.h). POLL_CQ and POST_RECV stay
	 * off: the process owns its rings.
	 */
	dev->ibdev.uverbs_cmd_mask |= BIT_ULL(IB_USER_VERBS_CMD_POST_SEND) |
				      BIT_ULL(IB_USER_VERBS_CMD_REQ_NOTIFY_CQ);

	err = ib_register_device(&dev->ibdev, "demo%d", dma_dev);
	if (err)
		goto err_hw;
	dev->debugfs = debugfs_create_dir(dev_name(dma_dev), demo_debugfs);
	for (i = 0; i < ARRAY_SIZE(demo_choices); i++)
		debugfs_create_file_aux(demo_choices[i].name, 0600,
					dev->debugfs, dev, &demo_choices[i],
					&demo_choice_fops);
	return dev;

err_hw:
	demo_hw_fini(dev);
err_dealloc:
	ib_dealloc_device(&dev->ibdev);
err_ida:
	ida_free(&demo_index_ida, index);
	return ERR_PTR(err);
}

static void demo_remove(struct demo_dev *dev)
{
	u32 index = dev->index;

	debugfs_remove(dev->debugfs);
	ib_unregister_device(&dev->ibdev);
	demo_dmabuf_fini(dev);
	demo_hw_fini(dev);
	WARN_ON(!xa_empty(&dev->pd_xa) || !xa_empty(&dev->cq_xa) ||
		!xa_empty(&dev->qp_xa));
	xa_destroy(&dev->pd_xa);
	ib_dealloc_device(&dev->ibdev);
	ida_free(&demo_index_ida, index);
}

/* --- PCI function parent (bound through driver_override only) */

static int demo_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct demo_dev *dev;
	int err;

	err = pcim_enable_device(pdev);
	if (err)
		return err;
	pci_set_master(pdev);

	dev = demo_add(&pdev->dev);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	pci_set_drvdata(pdev, dev);
	return 0;
}

static void demo_pci_remove(struct pci_dev *pdev)
{
	demo_remove(pci_get_drvdata(pdev));
}

/*
 * No ID table: the demo HCA is not a real PCI device, so it only binds where
 * an administrator asks for it with driver_override.
 */
static struct pci_driver demo_pci_driver = {
	.name = DRV_NAME,
	.probe = demo_pci_probe,
	.remove = demo_pci_remove,
};

#if IS_ENABLED(CONFIG_INFINIBAND_DEMO_KUNIT_TEST)
static int demo_pci_match(struct device *dev, const void *data)
{
	return dev->driver == &demo_pci_driver.driver;
}

/**
 * demo_pci_get_any - find an HCA bound to a PCI function, for the tests
 *
 * Return: the HCA with a reference on its PCI device, or NULL.
 */
struct demo_dev *demo_pci_get_any(void)
{
	struct device *dev = bus_find_device(&pci_bus_type, NULL, NULL,
					     demo_pci_match);

	return dev ? pci_get_drvdata(to_pci_dev(dev)) : NULL;
}
#endif

/* --- platform device parent, created through the driver's sysfs files */

static int demo_plat_probe(struct platform_device *pdev)
{
	struct demo_dev *dev;

	dev = demo_add(&pdev->dev);
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	platform_set_drvdata(pdev, dev);
	return 0;
}

static void demo_plat_remove(struct platform_device *pdev)
{
	demo_remove(platform_get_drvdata(pdev));
}

/* Serializes new_device and del_device on one id. */
static DEFINE_MUTEX(demo_pdevs_lock);

/* Create platform device demo_rdma.@id and bind it; @id is reserved. */
static struct demo_dev *demo_pdev_add(u32 id)
{
	struct platform_device_info info = {
		.name = DRV_NAME,
		.id = id,
		.dma_mask = DMA_BIT_MASK(64),
	};
	struct platform_device *pdev;

	pdev = platform_device_register_full(&info);
	if (IS_ERR(pdev)) {
		xa_erase(&demo_pdevs, id);
		return ERR_CAST(pdev);
	}
	/* Probing is synchronous: report a device that did not come up. */
	if (!device_is_bound(&pdev->dev)) {
		platform_device_unregister(pdev);
		xa_erase(&demo_pdevs, id);
		return ERR_PTR(-ENODEV);
	}
	xa_store(&demo_pdevs, id, pdev, GFP_KERNEL);
	return platform_get_drvdata(pdev);
}

static int demo_pdev_remove_id(u32 id)
{
	struct platform_device *pdev;

	mutex_lock(&demo_pdevs_lock);
	pdev = xa_erase(&demo_pdevs, id);
	if (pdev)
		platform_device_unregister(pdev);
	mutex_unlock(&demo_pdevs_lock);
	return pdev ? 0 : -ENOENT;
}

#if IS_ENABLED(CONFIG_INFINIBAND_DEMO_KUNIT_TEST)
/**
 * demo_pdev_create - create a demo HCA on a new platform device
 *
 * Return: the HCA, or an ERR_PTR. Remove it with demo_pdev_remove().
 */
struct demo_dev *demo_pdev_create(void)
{
	struct demo_dev *dev;
	u32 id;
	int err;

	mutex_lock(&demo_pdevs_lock);
	err = xa_alloc(&demo_pdevs, &id, NULL, xa_limit_31b, GFP_KERNEL);
	dev = err ? ERR_PTR(err) : demo_pdev_add(id);
	mutex_unlock(&demo_pdevs_lock);
	return dev;
}

/**
 * demo_pdev_remove - remove an HCA made by demo_pdev_create()
 * @dev: the HCA
 */
void demo_pdev_remove(struct demo_dev *dev)
{
	demo_pdev_remove_id(to_platform_device(dev->dma_dev)->id);
}
#endif

/*
 * /sys/bus/platform/drivers/demo_rdma/new_device: writing <id> creates
 * platform device demo_rdma.<id> and its HCA, as netdevsim's new_device
 * does, so a test can make the HCAs it needs and find them by name.
 */
static ssize_t new_device_store(struct device_driver *drv, const char *buf,
				size_t count)
{
	struct demo_dev *dev;
	u32 id;
	int err;

	err = kstrtou32(buf, 0, &id);
	if (err)
		return err;
	if (id > INT_MAX)
		return -EINVAL;

	mutex_lock(&demo_pdevs_lock);
	err = xa_insert(&demo_pdevs, id, NULL, GFP_KERNEL);
	if (err)
		dev = ERR_PTR(err == -EBUSY ? -EEXIST : err);
	else
		dev = demo_pdev_add(id);
	mutex_unlock(&demo_pdevs_lock);
	return IS_ERR(dev) ? PTR_ERR(dev) : count;
}
static DRIVER_ATTR_WO(new_device);

/* .../del_device: writing <id> removes a device made by new_device. */
static ssize_t del_device_store(struct device_driver *drv, const char *buf,
				size_t count)
{
	u32 id;
	int err;

	err = kstrtou32(buf, 0, &id);
	if (err)
		return err;
	err = demo_pdev_remove_id(id);
	return err ? err : count;
}
static DRIVER_ATTR_WO(del_device);

static struct attribute *demo_plat_drv_attrs[] = {
	&driver_attr_new_device.attr,
	&driver_attr_del_device.attr,
	NULL
};
ATTRIBUTE_GROUPS(demo_plat_drv);

static struct platform_driver demo_plat_driver = {
	.driver = {
		.name = DRV_NAME,
		.groups = demo_plat_drv_groups,
	},
	.probe = demo_plat_probe,
	.remove = demo_plat_remove,
};

static void demo_del_all_pdevs(void)
{
	struct platform_device *pdev;
	unsigned long id;

	xa_for_each(&demo_pdevs, id, pdev) {
		xa_erase(&demo_pdevs, id);
		platform_device_unregister(pdev);
	}
}

static int __init demo_init(void)
{
	int err;

	err = dmod_init();
	if (err)
		return err;

	demo_debugfs = debugfs_create_dir(DRV_NAME, NULL);

	err = platform_driver_register(&demo_plat_driver);
	if (err)
		goto err_model;

	err = pci_register_driver(&demo_pci_driver);
	if (err)
		goto err_plat;

	err = demo_bench_init(demo_debugfs);
	if (err)
		goto err_pci;
	return 0;

err_pci:
	pci_unregister_driver(&demo_pci_driver);
err_plat:
	platform_driver_unregister(&demo_plat_driver);
	demo_del_all_pdevs();
err_model:
	debugfs_remove(demo_debugfs);
	dmod_exit();
	return err;
}

static void __exit demo_exit(void)
{
	pci_unregister_driver(&demo_pci_driver);
	/* No new_device can run once the driver is gone. */
	platform_driver_unregister(&demo_plat_driver);
	demo_del_all_pdevs();
	debugfs_remove(demo_debugfs);
	demo_bench_exit();
	xa_destroy(&demo_pdevs);
	ida_destroy(&demo_index_ida);
	dmod_exit();
}

module_init(demo_init);
module_exit(demo_exit);

MODULE_DESCRIPTION("Demo RDMA HCA driver (simulated device)");
MODULE_LICENSE("GPL");
