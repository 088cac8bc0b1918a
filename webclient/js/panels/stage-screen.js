// The stage's screen in the 3D view: while the stage panel plays a talk's live video, the
// backdrop of the stage shows it (THREE.VideoTexture). Listens for two document events:
//   "metahall:view3d"      {view: View3D|null}    a 3D view was created / disposed
//   "metahall:stage-video" {video: HTMLVideoElement|null}  the stage panel's player
// three.js is imported only once a 3D view exists (the view has loaded it already).

let view = null;
let video = null;
let screen = null;
let generation = 0;

function clear() {
  if (!screen) return;
  screen.removeFromParent();
  screen.geometry.dispose();
  screen.material.map?.dispose();
  screen.material.dispose();
  screen = null;
  document.documentElement.dataset.stageScreen = "off";
}

/** Where the screen goes: in front of the stage's backdrop (see scene/room-builder.js _stage). */
export function screenPlacement(stage) {
  const backdrop = Math.min(6, stage.w * 0.25);
  const height = backdrop * 0.8;
  return {
    width: height * 16 / 9, height,
    x: stage.x, y: stage.h + backdrop / 2 + 0.1, z: stage.z - stage.d / 2 + 0.62,
  };
}

async function sync() {
  const gen = ++generation;
  clear();
  const stage = view?.layout?.features?.find((f) => f.type === "stage");
  if (!view || !video || !stage) return;
  const THREE = await import("three");
  if (gen !== generation) return;
  const p = screenPlacement(stage);
  const texture = new THREE.VideoTexture(video);
  texture.colorSpace = THREE.SRGBColorSpace;
  screen = new THREE.Mesh(
    new THREE.PlaneGeometry(p.width, p.height),
    new THREE.MeshBasicMaterial({ map: texture, toneMapped: false }),
  );
  screen.name = "stage-screen";
  screen.position.set(p.x, p.y, p.z);
  view.scene.add(screen);
  document.documentElement.dataset.stageScreen = "on";
}

document.addEventListener("metahall:view3d", (e) => { view = e.detail?.view ?? null; sync(); });
document.addEventListener("metahall:stage-video", (e) => { video = e.detail?.video ?? null; sync(); });
