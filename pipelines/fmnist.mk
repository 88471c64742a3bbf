# SPDX-License-Identifier: Apache-2.0
# Fashion-MNIST one-class DPA benchmark and the demo.
#
#   make fmnist-dpa            # all ten classes -> results/fmnist-dpa.tsv
#   make fmnist-dpa CLASS=0    # one class
#   make demo                  # class 0 with a short schedule (a few minutes)
#   make weights               # download the perceptual network's weights into ./weights
#
# Per class, under $(WORK)/fmnist/dpa/class<k>/: train.ts (class k training
# images), test.ts (test set, label 0 = class k), model.ts (+ model.ckpt.ts),
# loss.tsv, samples/ (input vs reconstruction grids, loss curve), scores.tsv,
# roc.png. Rerunning continues an interrupted run. The schedule is
# $(FMNIST_DPA_CONF) (its comments explain it); FMNIST_TRAIN_FLAGS adds
# ad-train flags (e.g. "--iters 200"), FMNIST_JOBS sets the threads.

WORK ?= work
CLASS ?=
FMNIST_DPA_CONF ?= pipelines/configs/fashion-mnist/dpa.conf
FMNIST_RESULTS ?= results/fmnist-dpa.tsv
DEMO_FLAGS ?= --iters 80 --batch-size 32 --set sample_every=40 --set checkpoint_every=40
DEMO_TEST ?= 2000
WEIGHTS_DIR := weights
VGG_NORMALISED_URL := https://raw.githubusercontent.com/jkbehne/GOTStyleTranfer/9268fb868e4bb65311ef3ddc1989ae980d22f8bb/models/vgg_normalised_conv3_1.pth
VGG_NORMALISED_SHA256 := 4ffff49ad5cdc3337374b947918f35f903fcb0898b0b5eebfcbd601b99fc3929

.PHONY: fmnist-dpa demo weights

fmnist-dpa: all
	@bash pipelines/fmnist-dpa.sh $(WORK)/fmnist $(FMNIST_RESULTS) $(FMNIST_DPA_CONF) \
	  $(if $(CLASS),$(CLASS),0 1 2 3 4 5 6 7 8 9)

demo: deps
	@$(MAKE) --no-print-directory all
	@start=$$(date +%s); \
	DEMO_TEST=$(DEMO_TEST) FMNIST_TRAIN_FLAGS="$(DEMO_FLAGS)" bash pipelines/fmnist-dpa.sh --demo --download $(WORK)/demo \
	  $(WORK)/demo/fmnist-dpa.tsv $(FMNIST_DPA_CONF) 0 && \
	echo "demo: DPA on Fashion-MNIST class 0 (T-shirt/top) against the other nine classes, on the first" && \
	echo "      $(DEMO_TEST) test images; ad-train $(DEMO_FLAGS); done in $$(( $$(date +%s) - start )) s." && \
	echo "  AUROC:                $$(awk -F'\t' 'NR == 2 { print $$2 }' $(WORK)/demo/fmnist-dpa.tsv)" && \
	echo "  ROC curve:            $(WORK)/demo/dpa/class0/roc.png" && \
	echo "  reconstructions:      $(WORK)/demo/dpa/class0/samples/sample.png (inputs above, reconstructions below)" && \
	echo "  loss curve:           $(WORK)/demo/dpa/class0/samples/loss.png" && \
	echo "  scores:               $(WORK)/demo/dpa/class0/scores.tsv"

# The normalised VGG19 prefix, from its public source (see ../shared/weights/README.md).
weights: $(WEIGHTS_DIR)/vgg19-normalised-conv3_1.pth

$(WEIGHTS_DIR)/vgg19-normalised-conv3_1.pth:
	@mkdir -p $(@D)
	@echo "weights: downloading $(VGG_NORMALISED_URL)"
	@if command -v curl >/dev/null; then curl -fsSL --connect-timeout 20 -o $@.part $(VGG_NORMALISED_URL); \
	 else wget -q -T 20 -O $@.part $(VGG_NORMALISED_URL); fi || { rm -f $@.part; \
	  echo "weights: download failed (offline?). Put vgg19-normalised-conv3_1.pth (the file" >&2; \
	  echo "  models/vgg_normalised_conv3_1.pth of github.com/jkbehne/GOTStyleTranfer, sha256" >&2; \
	  echo "  $(VGG_NORMALISED_SHA256)) into $(WEIGHTS_DIR)/ or set ADKIT_WEIGHTS=FOLDER." >&2; exit 1; }
	@echo "$(VGG_NORMALISED_SHA256)  $@.part" | sha256sum -c --quiet - || { rm -f $@.part; \
	  echo "weights: checksum mismatch for the downloaded file" >&2; exit 1; }
	@mv $@.part $@
