with

source as (

    select * from {{ lake_source('deadletter') }}

),

renamed as (

    select
        event_id as deadletter_id,
        store_id,
        source_topic,
        source_partition,
        source_offset,
        rejected_by,
        error_field,
        reason,
        original_b64,
        original_bytes,
        original_sha256,
        ts as rejected_at,
        date as lake_date,
        landed_at,

    from source

),

deduplicated as (

    select * from renamed
    qualify row_number() over (partition by deadletter_id order by landed_at) = 1  -- once, whatever date a copy carries

)

select * from deduplicated
