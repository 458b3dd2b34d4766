with

source as (

    select * from {{ lake_source('gate_scans') }}

),

renamed as (

    select
        event_id as scan_id,
        store_id,
        gate_id,
        direction,
        token_id,
        shopper_id,
        outcome,
        rejection,
        cast(group_size as integer) as group_size,
        cast(people_passed as integer) as people_passed,
        tailgating as is_tailgating,
        ts as scanned_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by scan_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
