"""The camera edge: ceiling cameras that track shoppers on the floor plan, and the entrance camera
that estimates their age band and gender.

* ``video`` opens a video file, an RTSP URL or a device with OpenCV;
* ``calibration`` maps image pixels to floor-plan metres (a homography from reference points) and
  floor positions to zones, from one YAML file per camera;
* ``detect`` finds people in a frame: foreground segmentation (MOG2) with blob analysis for
  top-down views, or an ONNX detection model run by onnxruntime with OpenCV's non-maximum
  suppression, chosen by the camera's configuration;
* ``tracker`` follows them from frame to frame (Kalman prediction, Hungarian assignment, coasting
  through short occlusions, entries and exits);
* ``ceiling`` runs the whole chain on a video and turns the tracks into ``camera.tracks`` events;
  ``scoring`` scores tracks against ground truth (MOTA, IDF1, position error) with motmetrics (the
  twin scores the chain on its rendered frames: :mod:`twin.camera_clips`, :mod:`twin.camera_day`);
* ``models`` finds the face, age and gender ONNX models installed from their PyPI wheels and checks
  them; ``entrance`` detects faces (CenterFace) and estimates age band and gender per face and per
  visit (a member's declared profile wins over the estimate).

Privacy: frames, face crops and any intermediate tensors live only in this process's memory. No
frame, face crop or embedding is ever written to disk or sent to Kafka; what leaves the pipeline is
a floor position per track and, from the entrance, an age band and gender with a confidence.
"""

from walkout.errors import WalkoutError


class CameraError(WalkoutError):
    """A camera source, calibration, configuration or model that the pipeline cannot use."""
