// SPDX-License-Identifier: GPL-2.0-only
/*
 * Demo RDMA HCA driver: command queue and event queue.
 *
 * The only driver code that touches the device's registers and control
 * rings. Commands are executed one at a time: the caller sleeps until the
 * device writes the completion in place and raises a CMD_DONE event.
 */
#include <linux/dma-mapping.h>

#include "demo.h"

#define DEMO_CMDQ_LOG_DEPTH	4
#define DEMO_EQ_LOG_DEPTH	10
#define DEMO_CMD_TIMEOUT	(5 * HZ)

static void demo_write(struct demo_dev *dev, u32 off, u32 val)
{
	dmod_reg_write(dev->hw, off, val);
}

static int demo_cmd_errno(u16 status)
{
	switch (status) {
	case DEMO_CMD_OK:
		return 0;
	case DEMO_CMD_NO_RESOURCES:
		return -ENOMEM;
	case DEMO_CMD_BUSY:
		return -EBUSY;
	case DEMO_CMD_DMA_FAULT:
		return -EFAULT;
	default:
		return -EINVAL;
	}
}

/*
 * Commands that only release what the device holds, or move a QP to where
 * it holds no work (ERR, RESET): after a reset the device holds nothing,
 * so they succeed without it. ib_drain_qp() on a dead device thus finds
 * its QPs moved to ERR and their work flushed (demo_poll_flush()).
 */
static bool demo_cmd_releases(const struct demo_cmd *cmd)
{
	switch (le16_to_cpu(cmd->opcode)) {
	case DEMO_CMD_DESTROY_CQ:
	case DEMO_CMD_DESTROY_QP:
	case DEMO_CMD_DESTROY_MR:
	case DEMO_CMD_INVALIDATE_MR:
		return true;
	case DEMO_CMD_MODIFY_QP:
		/* to ERR or RESET: the driver flushes the QP's work itself */
		return (le32_to_cpu(cmd->qp.mask) & DEMO_QP_ATTR_STATE) &&
		       (le32_to_cpu(cmd->qp.state) == DEMO_QPS_ERR ||
			le32_to_cpu(cmd->qp.state) == DEMO_QPS_RESET);
	default:
		return false;
	}
}

/*
 * The device failed: a command timed out, or the device reported a fatal
 * error. Reset it by clearing ENABLE, a write that returns once the
 * device has stopped: from then on it runs no command, does no DMA and
 * raises no interrupt, so whatever it used may be freed. Then tell the
 * device's users, once.
 */
static void demo_reset(struct demo_dev *dev)
{
	struct ib_event ev = {
		.device = &dev->ibdev,
		.element.port_num = DEMO_PORT,
		.event = IB_EVENT_DEVICE_FATAL,
	};

	lockdep_assert_held(&dev->cmd_lock);
	if (dev->cmd_dead)
		return;
	demo_write(dev, DEMO_REG_CTRL, 0);
	WRITE_ONCE(dev->cmd_dead, true);
	WRITE_ONCE(dev->link_up, false);
	/* The kernel QPs' work completes in software, with flush errors. */
	schedule_work(&dev->flush_work);
	/* Unregistering flushes the event; unregistered, nobody listens. */
	if (ib_device_try_get(&dev->ibdev)) {
		ib_dispatch_event(&ev);
		ib_device_put(&dev->ibdev);
	}
}

static void demo_fatal_work(struct work_struct *work)
{
	struct demo_dev *dev = container_of(work, struct demo_dev, fatal_work);

	mutex_lock(&dev->cmd_lock);
	demo_reset(dev);
	mutex_unlock(&dev->cmd_lock);
}

/**
 * demo_cmd_exec - run one device command and wait for its completion
 * @dev: the HCA
 * @cmd: the command; on success, the device's output fields are copied back
 *
 * A command that does not complete in time, or that a fatal error of the
 * device cuts short, resets the device (see demo_reset()). After that,
 * commands that release device state succeed and the others fail with
 * -EIO; either way the device no longer uses anything the command
 * referred to.
 *
 * Context: process context; sleeps.
 * Return: 0, or the errno matching the command's status; -ETIMEDOUT if
 * the device lost the command, -EIO if it failed or had been reset.
 */
int demo_cmd_exec(struct demo_dev *dev, struct demo_cmd *cmd)
{
	struct demo_cmd *slot;
	bool fatal;
	u32 idx;
	int err;

	mutex_lock(&dev->cmd_lock);
	if (dev->cmd_dead) {
		err = demo_cmd_releases(cmd) ? 0 : -EIO;
		goto out;
	}
	idx = dev->cmdq_pi & ((1U << DEMO_CMDQ_LOG_DEPTH) - 1);
	slot = &dev->cmdq[idx];
	*slot = *cmd;
	slot->flags = cpu_to_le32(DEMO_CMD_F_INTR);
	slot->done = 0;
	reinit_completion(&dev->cmd_done);
	/* The entry must be visible before the doorbell. */
	dma_wmb();
	demo_write(dev, DEMO_DB_CMDQ, ++dev->cmdq_pi);
	if (!wait_for_completion_timeout(&dev->cmd_done, DEMO_CMD_TIMEOUT) ||
	    !READ_ONCE(slot->done)) {
		/*
		 * A device that lost a command, or failed with the command
		 * in flight, is reset, not trusted again. Its status tells
		 * the two apart: -ETIMEDOUT, or -EIO as for any command on
		 * a failed device.
		 */
		fatal = dmod_reg_read(dev->hw, DEMO_REG_STATUS) &
			DEMO_STATUS_FATAL;
		demo_reset(dev);
		if (demo_cmd_releases(cmd))
			err = 0;
		else
			err = fatal ? -EIO : -ETIMEDOUT;
		goto out;
	}
	dma_rmb();
	*cmd = *slot;
	err = demo_cmd_errno(le16_to_cpu(cmd->status));
out:
	mutex_unlock(&dev->cmd_lock);
	return err;
}

/* The interrupt handler: runs in hard interrupt context. */
static void demo_eq_irq(void *ctx)
{
	struct demo_dev *dev = ctx;
	u32 mask = (1U << DEMO_EQ_LOG_DEPTH) - 1;
	u16 type;

	for (;;) {
		struct demo_eqe *eqe = &dev->eq[dev->eq_ci & mask];
		u16 owner = !!(dev->eq_ci & (mask + 1));

		if (le16_to_cpu(READ_ONCE(eqe->owner)) != owner ||
		    !READ_ONCE(eqe->type))
			break;
		dma_rmb();
		type = le16_to_cpu(eqe->type);
		switch (type) {
		case DEMO_EQE_CMD_DONE:
			complete(&dev->cmd_done);
			break;
		case DEMO_EQE_FATAL:
			/* a command in flight will not complete: stop waiting */
			complete(&dev->cmd_done);
			schedule_work(&dev->fatal_work);
			break;
		default:
			/*
			 * The others go to the objects that own them. DMA
			 * faults have no handler: the device counts them (hw
			 * stats).
			 */
			if (type < DEMO_EQE_NR && dev->events[type])
				dev->events[type](dev, le32_to_cpu(eqe->param));
			break;
		}
		eqe->type = 0;
		dev->eq_ci++;
	}
	demo_write(dev, DEMO_DB_EQ, dev->eq_ci);
}

/**
 * demo_hw_init - attach to the device and bring up its control rings
 * @dev: the HCA
 * @events: the handler of each event type, by type: the others than
 *	command completions and fatal errors, which this file handles; none
 *	for a type the driver ignores
 *
 * Return: 0 or an errno.
 */
int demo_hw_init(struct demo_dev *dev, const demo_event_fn *events)
{
	size_t cmdq_size = sizeof(*dev->cmdq) << DEMO_CMDQ_LOG_DEPTH;
	size_t eq_size = sizeof(*dev->eq) << DEMO_EQ_LOG_DEPTH;
	int err;

	mutex_init(&dev->cmd_lock);
	init_completion(&dev->cmd_done);
	INIT_WORK(&dev->fatal_work, demo_fatal_work);
	dev->events = events;
	dev->hw = dmod_attach(dev->dma_dev, dev->index + 1);
	if (IS_ERR(dev->hw))
		return PTR_ERR(dev->hw);

	err = -ENOMEM;
	dev->cmdq = dma_alloc_coherent(dev->dma_dev, cmdq_size, &dev->cmdq_dma,
				       GFP_KERNEL);
	if (!dev->cmdq)
		goto err_detach;
	dev->eq = dma_alloc_coherent(dev->dma_dev, eq_size, &dev->eq_dma,
				     GFP_KERNEL);
	if (!dev->eq)
		goto err_cmdq;

	dmod_request_irq(dev->hw, demo_eq_irq, dev);
	demo_write(dev, DEMO_REG_CMDQ_BASE_LO, lower_32_bits(dev->cmdq_dma));
	demo_write(dev, DEMO_REG_CMDQ_BASE_HI, upper_32_bits(dev->cmdq_dma));
	demo_write(dev, DEMO_REG_CMDQ_LOG_DEPTH, DEMO_CMDQ_LOG_DEPTH);
	demo_write(dev, DEMO_REG_EQ_BASE_LO, lower_32_bits(dev->eq_dma));
	demo_write(dev, DEMO_REG_EQ_BASE_HI, upper_32_bits(dev->eq_dma));
	demo_write(dev, DEMO_REG_EQ_LOG_DEPTH, DEMO_EQ_LOG_DEPTH);
	demo_write(dev, DEMO_DB_EQ, 0);
	demo_write(dev, DEMO_REG_CTRL, DEMO_CTRL_ENABLE);
	if (!(dmod_reg_read(dev->hw, DEMO_REG_STATUS) & DEMO_STATUS_READY)) {
		err = -EIO;
		goto err_eq;
	}
	dev->link_up = true;
	return 0;

err_eq:
	demo_write(dev, DEMO_REG_CTRL, 0);
	dmod_free_irq(dev->hw);
	dma_free_coherent(dev->dma_dev, eq_size, dev->eq, dev->eq_dma);
err_cmdq:
	dma_free_coherent(dev->dma_dev, cmdq_size, dev->cmdq, dev->cmdq_dma);
err_detach:
	dmod_detach(dev->hw);
	return err;
}

/**
 * demo_hw_fini - stop the device and free its control rings
 * @dev: the HCA
 *
 * The device is detached (all its DMA stopped) before the rings it writes
 * are freed.
 */
void demo_hw_fini(struct demo_dev *dev)
{
	demo_write(dev, DEMO_REG_CTRL, 0);
	/* no event raises another reset: the device is stopped */
	cancel_work_sync(&dev->fatal_work);
	cancel_work_sync(&dev->flush_work);
	dmod_detach(dev->hw);
	dma_free_coherent(dev->dma_dev, sizeof(*dev->eq) << DEMO_EQ_LOG_DEPTH,
			  dev->eq, dev->eq_dma);
	dma_free_coherent(dev->dma_dev, sizeof(*dev->cmdq) << DEMO_CMDQ_LOG_DEPTH,
			  dev->cmdq, dev->cmdq_dma);
}
