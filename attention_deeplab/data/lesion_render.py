"""Rendering one synthetic dermoscopy image and its lesion mask with numpy and Pillow.

The picture mimics what makes real images hard for a threshold: a dermatoscope's
dark field corners, hairs, uneven lighting, and lesions from light brown to black
with soft, irregular edges. Colour and context tell the lesion apart (brown and
textured, not neutral black at the periphery), so a small CNN learns it.
"""
import numpy as np
from PIL import Image, ImageDraw


def smooth_noise(rng, height, width, cells):
    """Smooth random field in [0, 1]: a coarse grid of noise upsampled bicubically.

    Args:
        rng: numpy.random.Generator.
        height: int. Field height.
        width: int. Field width.
        cells: int. Grid cells along the longer side (more cells: finer detail).
    """
    long_side = max(height, width)
    shape = (max(2, round(cells * height / long_side)), max(2, round(cells * width / long_side)))
    grid = rng.random(shape, dtype=np.float32)
    field = Image.fromarray(grid).resize((width, height), Image.BICUBIC)
    return np.clip(np.asarray(field), 0.0, 1.0)


def _skin(rng, height, width):
    """Skin-toned background: uneven lighting and a fine texture of pores and lines."""
    base = np.array([rng.uniform(190, 240), rng.uniform(135, 185), rng.uniform(110, 165)],
                    dtype=np.float32)
    light = 0.88 + 0.24 * smooth_noise(rng, height, width, 4)
    texture = 0.94 + 0.12 * smooth_noise(rng, height, width, max(8, width // 6))
    return base * (light * texture)[..., None]


def _lesion_distance(rng, height, width):
    """Irregular lesion outline as a normalised distance (< 1 inside) over its bounding box.

    Returns:
        tuple: the distance field and the (row, column) slices it covers.
    """
    short = min(height, width)
    radius = rng.uniform(0.12, 0.36) * short
    centre_y = height / 2 + rng.uniform(-0.18, 0.18) * short
    centre_x = width / 2 + rng.uniform(-0.22, 0.22) * short
    angle, aspect = rng.uniform(0, np.pi), rng.uniform(0.55, 1.0)
    # Lobes: low harmonics with random phases make a non-convex, knobbly outline,
    # tabulated over 720 angles rather than evaluated per pixel.
    phi = np.linspace(-np.pi, np.pi, 721, dtype=np.float32)
    outline = np.ones_like(phi)
    for k in range(2, 8):
        outline += rng.uniform(0, 0.22 / k**0.6) * np.cos(k * phi + rng.uniform(0, 2 * np.pi))
    outline = radius * np.maximum(outline, 0.35)
    ragged_amount = rng.uniform(0.08, 0.25)
    # Pigment ends where distance + ragged >= 1 + softness / 2 (at most 1.1), so
    # nothing lies beyond 1.1 + ragged_amount / 2 outline radii.
    reach = outline.max() * (1.15 + ragged_amount / 2)
    rows = slice(max(0, int(centre_y - reach)), min(height, int(centre_y + reach) + 1))
    cols = slice(max(0, int(centre_x - reach)), min(width, int(centre_x + reach) + 1))
    y, x = np.ogrid[rows, cols]
    y = (y - centre_y).astype(np.float32)
    x = (x - centre_x).astype(np.float32)
    u = x * np.cos(angle) + y * np.sin(angle)
    v = (y * np.cos(angle) - x * np.sin(angle)) / aspect
    index = ((np.arctan2(v, u) + np.pi) * (360 / np.pi)).astype(np.int32)
    distance = np.sqrt(u * u + v * v) / outline[index]
    # A ragged border: smooth noise added to the distance field.
    box_h, box_w = distance.shape
    ragged = smooth_noise(rng, box_h, box_w, max(6, box_w // 25)) - 0.5
    return distance + ragged_amount * ragged, (rows, cols)


def _pigment(rng, height, width, inside):
    """Brown-to-black variegated colour; darker towards the lesion's core."""
    light = np.array([rng.uniform(125, 175), rng.uniform(70, 100), rng.uniform(45, 70)],
                     dtype=np.float32)
    dark = np.array([rng.uniform(25, 70), rng.uniform(12, 35), rng.uniform(8, 28)],
                    dtype=np.float32)
    mix = smooth_noise(rng, height, width, max(5, width // 40))
    mix = np.clip(0.55 * mix + rng.uniform(0.2, 0.6) * inside, 0, 1)
    speckle = 0.9 + 0.2 * smooth_noise(rng, height, width, max(8, width // 5))
    return (light + (dark - light) * mix[..., None]) * speckle[..., None]


def _vignette(rng, height, width):
    """The dermatoscope's round field: 1 inside, falling to near black in the corners."""
    y, x = np.ogrid[:height, :width]
    half = min(height, width) / 2
    centre_y = height / 2 + rng.uniform(-0.1, 0.1) * half
    centre_x = width / 2 + rng.uniform(-0.1, 0.1) * half
    radius = np.sqrt(((y - centre_y) / half) ** 2 + ((x - centre_x) / half) ** 2)
    # Field edge in half short sides: the corners of a 4:3 frame lie at 1.67.
    edge, soft = rng.uniform(1.15, 1.6), rng.uniform(0.05, 0.3)
    if rng.random() < 0.2:
        edge = 3.0  # some images fill the frame: no dark corners
    field = np.clip((edge - radius) / soft, 0.0, 1.0).astype(np.float32)
    return 0.04 + 0.96 * field * field * (3 - 2 * field)


def _hairs(rng, image):
    """A few dark, curved hairs drawn over skin and lesion alike."""
    picture = Image.fromarray(image)
    draw = ImageDraw.Draw(picture)
    height, width = image.shape[:2]
    for _ in range(rng.integers(0, 6)):
        start, bend, end = rng.uniform(0, 1, (3, 2)) * (width, height)
        t = np.linspace(0, 1, 24)[:, None]
        points = (1 - t) ** 2 * start + 2 * t * (1 - t) * bend + t ** 2 * end
        shade = int(rng.uniform(10, 60))
        draw.line([tuple(p) for p in points], fill=(shade + 15, shade + 5, shade),
                  width=int(rng.integers(1, 4)))
    return np.asarray(picture)


def render_case(rng, height, width):
    """One synthetic dermoscopy image and its lesion mask.

    Args:
        rng: numpy.random.Generator. Source of all randomness (deterministic per seed).
        height: int. Image height in pixels.
        width: int. Image width in pixels.

    Returns:
        tuple: image (uint8, height x width x 3) and mask (uint8, height x width,
        0 or 255).
    """
    picture = _skin(rng, height, width)
    distance, box = _lesion_distance(rng, height, width)
    inside = np.clip(1.0 - distance, 0.0, 1.0)
    pigment = _pigment(rng, *distance.shape, inside)
    # Soft edge: pigment fades over a band around the outline (mask = alpha >= 0.5).
    softness = rng.uniform(0.04, 0.2)
    alpha = np.clip((1.0 - distance) / softness + 0.5, 0.0, 1.0)[..., None]
    alpha *= np.float32(rng.uniform(0.75, 1.0))
    picture[box] += (pigment - picture[box]) * alpha
    picture *= _vignette(rng, height, width)[..., None]
    picture += 2.5 * rng.standard_normal((height, width, 1), dtype=np.float32)
    image = _hairs(rng, np.clip(picture, 0, 255).astype(np.uint8))
    mask = np.zeros((height, width), np.uint8)
    mask[box] = np.where(distance <= 1.0, 255, 0)
    return image, mask
