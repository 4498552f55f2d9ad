# SPDX-License-Identifier: GPL-2.0
# Entry points; see README.md.  Everything runs from tooling/.
# IDENT (make takeover IDENT="Name <email>") reaches the script through
# the environment, so that no quote in a name is parsed by the shell.
export IDENT
.PHONY: run test setup tree export check-export check build vm takeover outgoing send-dry-run \
	cocci-test cocci-tree rdma-core rdma-core-vm

run:		; tooling/run.sh
test:		; tooling/test.sh
setup:		; tooling/setup.sh
tree:		; tooling/tree.sh
export:		; tooling/export.sh
check-export:	; tooling/export.sh --check
check:		; tooling/check-series.sh
build:		; tooling/build.sh
vm:		; tooling/vm.sh $(MODES)
rdma-core:	; tooling/rdma-core.sh
rdma-core-vm:	; tooling/vm.sh rdma-core
cocci-test:	; RULES='dma_*' tooling/cocci-test.sh \
			$(or $(DEMO_CACHE),/var/cache/demo-rdma)/tree/scripts/coccinelle tooling/cocci/fixtures
cocci-tree:	; RULES='dma_*' tooling/cocci-tree.sh $(or $(KTREE),$(or $(DEMO_CACHE),/var/cache/demo-rdma)/tree) \
			$(or $(DEMO_CACHE),/var/cache/demo-rdma)/tree/scripts/coccinelle \
			$(or $(DEMO_CACHE),/var/cache/demo-rdma)/results/cocci-tree
takeover:	; tooling/take-over.sh "$$IDENT"
outgoing:	; tooling/outgoing.sh
send-dry-run:	; tooling/send-dry-run.sh
