{#- Where the people of a contested take walked from 20 s before it to 20 s after, for the console's floor
    plan: the tracks of every visit weighed for the take or charged with it (positions only, no frame).
    For a pick charged to nobody, every track that came within 2 m of the plate's reach point then. #}
with

evidence as (

    select * from {{ ref('review_evidence') }}

),

{#- Every tracker id a visit claims: an id the tracker swapped between two shoppers is in both visits,
    and each visit's walk may be on it for part of the window (int_visit_tracks keeps it for one only). #}
claimed_tracks as (

    select store_id, visit_id, unnest(track_ids) as track_id,
    from {{ ref('int_visits') }}

),

first_claims as (

    select * from {{ ref('int_visit_tracks') }}

),

camera_tracks as (

    select * from {{ ref('stg_camera_tracks') }}

),

plates as (

    select * from {{ ref('stg_plates') }}

),

shown_visits as (

    select distinct
        evidence.case_id,
        evidence.shelf_event_id,
        evidence.store_id,
        evidence.detected_at,
        shown.visit_id,

    from evidence, unnest(
        list_prepend(evidence.charged_visit_id, [candidate.visit_id for candidate in evidence.candidates])
    ) as shown(visit_id)
    where shown.visit_id is not null

),

visit_samples as (

    select
        shown_visits.case_id,
        shown_visits.shelf_event_id,
        shown_visits.visit_id,
        camera_tracks.track_id,
        camera_tracks.sampled_at,
        camera_tracks.x_m,
        camera_tracks.y_m,
        date_diff('millisecond', shown_visits.detected_at, camera_tracks.sampled_at) / 1000.0
            as seconds_from_take,

    from shown_visits
    inner join claimed_tracks
        on shown_visits.store_id = claimed_tracks.store_id and shown_visits.visit_id = claimed_tracks.visit_id
    inner join camera_tracks
        on claimed_tracks.store_id = camera_tracks.store_id
        and claimed_tracks.track_id = camera_tracks.track_id
        and camera_tracks.sampled_at between shown_visits.detected_at - interval 20 second
            and shown_visits.detected_at + interval 20 second

),

unattributed as (

    select
        evidence.case_id,
        evidence.shelf_event_id,
        evidence.store_id,
        evidence.detected_at,
        plates.reach_x_m,
        plates.reach_y_m,

    from evidence
    inner join plates on evidence.plate_id = plates.plate_id
    where evidence.charged_visit_id is null

),

nearby_samples as (

    select
        unattributed.case_id,
        unattributed.shelf_event_id,
        unattributed.store_id,
        camera_tracks.track_id,
        camera_tracks.sampled_at,
        camera_tracks.x_m,
        camera_tracks.y_m,
        date_diff('millisecond', unattributed.detected_at, camera_tracks.sampled_at) / 1000.0
            as seconds_from_take,
        sqrt((camera_tracks.x_m - unattributed.reach_x_m) ** 2 + (camera_tracks.y_m - unattributed.reach_y_m) ** 2)
            as from_plate_m,

    from unattributed
    inner join camera_tracks
        on unattributed.store_id = camera_tracks.store_id
        and camera_tracks.sampled_at between unattributed.detected_at - interval 20 second
            and unattributed.detected_at + interval 20 second

),

{#- A track near a pick charged to nobody names the visit that claims it first, if any (the operator may
    charge that visit); a track no visit claims walked in unpaid. #}
near_plate as (

    select
        nearby_samples.* exclude (store_id, from_plate_m),
        first_claims.visit_id,

    from nearby_samples
    left join first_claims
        on nearby_samples.store_id = first_claims.store_id and nearby_samples.track_id = first_claims.track_id
    qualify min(nearby_samples.from_plate_m) over (
        partition by nearby_samples.case_id, nearby_samples.shelf_event_id, nearby_samples.track_id
    ) <= 2.0

),

final as (

    select * from visit_samples
    union all by name
    select * from near_plate

)

select * from final
