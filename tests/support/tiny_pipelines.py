"""Tiny random-weight FLUX pipelines built in-process, for the local backend's tests (no download, no GPU).

The sizes follow diffusers' own pipeline tests; the tokenizers are word-level ones made with the
``tokenizers`` library. Saved with ``save_pretrained``, a folder loads back through
``DiffusionPipeline.from_pretrained`` as a ``FluxPipeline``; a 64×64 image in 2 steps takes well
under a second on a CPU.
"""

from __future__ import annotations

from pathlib import Path

WORDS = ["[PAD]", "[UNK]", "a", "an", "fox", "cat", "owl", "in", "hat", "the", "of", "red", "blue", "slow", "night"]


def _tokenizer(max_length: int):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = Tokenizer(models.WordLevel({word: i for i, word in enumerate(WORDS)}, unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(
        tokenizer_object=words, unk_token="[UNK]", pad_token="[PAD]", model_max_length=max_length
    )


def save_tiny_flux(folder: Path, seed: int = 0, *, poisoned: bool = False, kontext: bool = False) -> Path:
    """A tiny FLUX.1 pipeline (CLIP and T5 text encoders, a one-layer transformer, a one-channel VAE) in ``folder``.

    ``poisoned`` puts NaN into the VAE's last layer, as a float16 overflow does: every pixel comes out black.
    ``kontext`` makes it a ``FluxKontextPipeline`` with a VAE that downsamples 8× as the real one does:
    Kontext scales its input to about a megapixel, which a 1× VAE would make 262,000 image tokens
    (minutes a step on a CPU); at 8× one call takes about a second.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        FluxKontextPipeline,
        FluxPipeline,
        FluxTransformer2DModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, T5Config, T5EncoderModel

    torch.manual_seed(seed)
    clip = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(WORDS), hidden_size=32, intermediate_size=37, num_attention_heads=4, num_hidden_layers=1,
            projection_dim=32, max_position_embeddings=77, pad_token_id=0, bos_token_id=0, eos_token_id=0,
        )
    )  # fmt: skip
    t5 = T5EncoderModel(
        T5Config(vocab_size=len(WORDS), d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4, pad_token_id=0)
    )
    transformer = FluxTransformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=32, pooled_projection_dim=32, axes_dims_rope=[4, 4, 8],
    )  # fmt: skip
    blocks = 4 if kontext else 1  # 2 ** (blocks - 1): the VAE's scale
    vae = AutoencoderKL(
        sample_size=32, in_channels=3, out_channels=3, block_out_channels=(4,) * blocks, layers_per_block=1,
        down_block_types=("DownEncoderBlock2D",) * blocks, up_block_types=("UpDecoderBlock2D",) * blocks,
        latent_channels=1, norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False,
        shift_factor=0.0609, scaling_factor=1.5035,
    )  # fmt: skip
    if poisoned:
        with torch.no_grad():
            vae.decoder.conv_out.bias.fill_(float("nan"))
    pipeline = (FluxKontextPipeline if kontext else FluxPipeline)(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=clip,
        tokenizer=_tokenizer(77),
        text_encoder_2=t5,
        tokenizer_2=_tokenizer(32),
        transformer=transformer,
    )
    pipeline.save_pretrained(folder)
    return folder


#: Qwen3 layers of the tiny FLUX.2 [klein] text encoder: the pipeline reads hidden states 9, 18 and 27 by default.
KLEIN_TEXT_LAYERS = 28


def save_tiny_klein(folder: Path, seed: int = 0) -> Path:
    """A tiny FLUX.2 [klein] pipeline (a Qwen3 text encoder, a one-layer FLUX.2 transformer) in ``folder``.

    Distilled like the real FLUX.2 [klein] 4B (no guidance pass); the text encoder has enough layers
    for the pipeline's default hidden-state picks, so it is called with nothing but the usual inputs.
    """
    import torch
    from diffusers import (
        AutoencoderKLFlux2,
        FlowMatchEulerDiscreteScheduler,
        Flux2KleinPipeline,
        Flux2Transformer2DModel,
    )
    from transformers import Qwen3Config, Qwen3ForCausalLM

    torch.manual_seed(seed)
    text_encoder = Qwen3ForCausalLM(
        Qwen3Config(
            vocab_size=len(WORDS), hidden_size=16, intermediate_size=16, num_hidden_layers=KLEIN_TEXT_LAYERS,
            num_attention_heads=2, num_key_value_heads=2, head_dim=8, max_position_embeddings=512, pad_token_id=0,
        )
    )  # fmt: skip
    transformer = Flux2Transformer2DModel(
        patch_size=1, in_channels=4, num_layers=1, num_single_layers=1, attention_head_dim=16, num_attention_heads=2,
        joint_attention_dim=3 * 16, timestep_guidance_channels=256, axes_dims_rope=[4, 4, 4, 4], guidance_embeds=False,
    )  # fmt: skip
    vae = AutoencoderKLFlux2(
        sample_size=32, in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",),
        up_block_types=("UpDecoderBlock2D",), block_out_channels=(4,), layers_per_block=1, latent_channels=1,
        norm_num_groups=1, use_quant_conv=False, use_post_quant_conv=False,
    )  # fmt: skip
    tokenizer = _tokenizer(512)
    tokenizer.chat_template = "{% for message in messages %}{{ message['content'] }}{% endfor %}"
    pipeline = Flux2KleinPipeline(
        scheduler=FlowMatchEulerDiscreteScheduler(),
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        transformer=transformer,
        is_distilled=True,
    )
    pipeline.save_pretrained(folder)
    return folder
