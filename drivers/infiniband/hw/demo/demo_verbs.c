// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA driver: device, port and protection domain verbs.
 */
#include <rdma/ib_verbs.h>
#include <rdma/uverbs_ioctl.h>

#include "demo.h"

#define DEMO_VENDOR_ID		0x1234
#define DEMO_VENDOR_PART_ID	0xde70
#define DEMO_MAX_MSG_SZ		SZ_2G

int demo_query_device(struct ib_device *ibdev, struct ib_device_attr *attr,
		      struct ib_udata *udata)
{
	int err;

	err = ib_no_udata_io(udata);
	if (err)
		return err;

	memset(attr, 0, sizeof(*attr));
	attr->sys_image_guid = ibdev->node_guid;
	attr->max_mr_size = U64_MAX;
	attr->page_size_cap = PAGE_SIZE;
	attr->vendor_id = DEMO_VENDOR_ID;
	attr->vendor_part_id = DEMO_VENDOR_PART_ID;
	attr->max_pd = DEMO_MAX_PD;
	attr->max_pkeys = 1;
	return 0;
}

int demo_query_port(struct ib_device *ibdev, u32 port,
		    struct ib_port_attr *attr)
{
	struct demo_dev *dev = to_demo_dev(ibdev);

	/* The core zeroes @attr before calling. */
	attr->state = IB_PORT_ACTIVE;
	attr->phys_state = IB_PORT_PHYS_STATE_LINK_UP;
	attr->max_mtu = IB_MTU_4096;
	attr->active_mtu = IB_MTU_4096;
	attr->gid_tbl_len = 1;
	attr->pkey_tbl_len = 1;
	attr->max_msg_sz = DEMO_MAX_MSG_SZ;
	attr->lid = dev->index + 1;
	attr->sm_lid = 1;
	attr->lmc = 0;
	attr->max_vl_num = 1;
	attr->active_width = IB_WIDTH_4X;
	attr->active_speed = IB_SPEED_EDR;
	return 0;
}

int demo_get_port_immutable(struct ib_device *ibdev, u32 port,
			    struct ib_port_immutable *immutable)
{
	struct ib_port_attr attr;
	int err;

	err = ib_query_port(ibdev, port, &attr);
	if (err)
		return err;

	immutable->pkey_tbl_len = attr.pkey_tbl_len;
	immutable->gid_tbl_len = attr.gid_tbl_len;
	/*
	 * IB transport addressed by LID, without the management classes: the
	 * demo fabric has no subnet manager, so no MAD agents are created.
	 */
	immutable->core_cap_flags = RDMA_CORE_CAP_PROT_IB;
	return 0;
}

int demo_query_gid(struct ib_device *ibdev, u32 port, int index,
		   union ib_gid *gid)
{
	if (index)
		return -EINVAL;

	gid->global.subnet_prefix = cpu_to_be64(0xfe80000000000000ULL);
	gid->global.interface_id = ibdev->node_guid;
	return 0;
}

int demo_query_pkey(struct ib_device *ibdev, u32 port, u16 index, u16 *pkey)
{
	if (index)
		return -EINVAL;

	*pkey = DEMO_PKEY_DEFAULT;
	return 0;
}

int demo_alloc_ucontext(struct ib_ucontext *uctx, struct ib_udata *udata)
{
	return ib_no_udata_io(udata);
}

void demo_dealloc_ucontext(struct ib_ucontext *uctx)
{
}

int demo_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);
	struct demo_pd *pd = to_demo_pd(ibpd);
	int err;

	err = ib_no_udata_io(udata);
	if (err)
		return err;

	err = xa_alloc(&dev->pd_xa, &pd->pdn, pd, XA_LIMIT(1, DEMO_MAX_PD),
		       GFP_KERNEL);
	/* All PD numbers in use is a resource shortage, not a busy device. */
	return err == -EBUSY ? -ENOMEM : err;
}

int demo_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata)
{
	struct demo_dev *dev = to_demo_dev(ibpd->device);

	xa_erase(&dev->pd_xa, to_demo_pd(ibpd)->pdn);
	return 0;
}
