/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Demo RDMA HCA driver: driver-side objects.
 */
#ifndef _DEMO_H_
#define _DEMO_H_

#include <linux/xarray.h>
#include <rdma/ib_verbs.h>

#define DEMO_PORT		1
#define DEMO_MAX_PD		1024
#define DEMO_PKEY_DEFAULT	0xffff

/**
 * struct demo_dev - one demo HCA
 * @ibdev: the RDMA core device, first so container_of() is free
 * @dma_dev: the device the HCA does DMA through: a PCI function, or a
 *	platform device with no IOMMU
 * @index: instance number, used for deterministic GUIDs and LIDs
 * @pd_xa: allocated protection domain numbers
 */
struct demo_dev {
	struct ib_device ibdev;
	struct device *dma_dev;
	u32 index;
	struct xarray pd_xa;
};

struct demo_ucontext {
	struct ib_ucontext ibucontext;
};

struct demo_pd {
	struct ib_pd ibpd;
	u32 pdn;
};

static inline struct demo_dev *to_demo_dev(struct ib_device *ibdev)
{
	return container_of(ibdev, struct demo_dev, ibdev);
}

static inline struct demo_pd *to_demo_pd(struct ib_pd *ibpd)
{
	return container_of(ibpd, struct demo_pd, ibpd);
}

int demo_query_device(struct ib_device *ibdev, struct ib_device_attr *attr,
		      struct ib_udata *udata);
int demo_query_port(struct ib_device *ibdev, u32 port,
		    struct ib_port_attr *attr);
int demo_get_port_immutable(struct ib_device *ibdev, u32 port,
			    struct ib_port_immutable *immutable);
int demo_query_gid(struct ib_device *ibdev, u32 port, int index,
		   union ib_gid *gid);
int demo_query_pkey(struct ib_device *ibdev, u32 port, u16 index, u16 *pkey);
int demo_alloc_ucontext(struct ib_ucontext *uctx, struct ib_udata *udata);
void demo_dealloc_ucontext(struct ib_ucontext *uctx);
int demo_alloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);
int demo_dealloc_pd(struct ib_pd *ibpd, struct ib_udata *udata);

#endif /* _DEMO_H_ */
