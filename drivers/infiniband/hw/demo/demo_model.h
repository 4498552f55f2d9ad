/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Demo RDMA HCA: the device model's bus-side interface.
 *
 * This is what the silicon would offer the driver and nothing more: a
 * register window (dmod_reg_read/dmod_reg_write stand in for readl/writel
 * on a BAR) and an interrupt line (dmod_request_irq stands in for
 * request_irq). Everything else goes through DMA memory described in
 * demo_hw_defs.h.
 */
#ifndef _DEMO_MODEL_H_
#define _DEMO_MODEL_H_

#include <linux/device.h>

struct dmod_dev;

int dmod_init(void);
void dmod_exit(void);
struct dmod_dev *dmod_attach(struct device *dma_dev, u32 lid);
void dmod_detach(struct dmod_dev *mdev);
u32 dmod_reg_read(struct dmod_dev *mdev, u32 off);
void dmod_reg_write(struct dmod_dev *mdev, u32 off, u32 val);
void dmod_request_irq(struct dmod_dev *mdev, void (*handler)(void *ctx),
		      void *ctx);
void dmod_free_irq(struct dmod_dev *mdev);
void dmod_synchronize_irq(struct dmod_dev *mdev);
u64 dmod_reg_read64(struct dmod_dev *mdev, u32 off);

/* Not the driver's business: the world outside the device, for tests. */
void dmod_cable(struct dmod_dev *mdev, bool up);
void dmod_fail(struct dmod_dev *mdev);

#endif /* _DEMO_MODEL_H_ */
