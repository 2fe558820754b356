# Character-level "baby GPT" on tiny-shakespeare (~10.7M parameters).
# Plain Python assignments; train.py only accepts keys it knows about.
# Override any of them on the command line, e.g. --max_iters=200 --device=cpu.

log_dir = "out-shakespeare-char"
eval_interval = 250  # the model overfits quickly on this tiny dataset; eval often
eval_iters = 200
log_interval = 10

# only save a checkpoint when val loss improves (plus always at the end of training)
always_save_checkpoint = False

wandb_log = False  # accepted but ignored: no network in the container

dataset = "shakespeare_char"
gradient_accumulation_steps = 1
batch_size = 64
block_size = 256  # context of up to 256 previous characters

n_layer = 6
n_head = 6
n_embd = 384
dropout = 0.2

learning_rate = 1e-3  # small networks can take a larger learning rate
max_iters = 5000
lr_decay_iters = 5000  # usually equal to max_iters
min_lr = 1e-4  # usually learning_rate / 10
beta2 = 0.99  # a bit larger because there are few tokens per iteration

warmup_iters = 100
